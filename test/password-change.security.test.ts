import { env, runDurableObjectAlarm } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords";
import { Client, expectProblem } from "./support/client";
import { enableTOTP, logIn, newUser, PASSWORD, secondStepClient } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { eventTypesOf, guard, loginThrottleKeys, refusingUserWrites, throttleSnapshot, withTrigger } from "./support/stores";

/**
 * Changing the password from the Security page: a wrong current password is a
 * failed login (it counts toward the login throttle), the other sessions end,
 * this one goes on under a new token, the owner is told.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

const NEW_PASSWORD = "another long password for this";

describe("password change", () => {
  it("a wrong current password answers 401 and spends a login-throttle token of the email and of the client", async () => {
    const user = await newUser();
    const keys = loginThrottleKeys(user.email, user.client.ip);
    const before = (await throttleSnapshot(keys)) as Record<string, { tokens: number } | null>;
    await expectProblem(
      await user.client.post("/api/security/password", { currentPassword: "not my password", newPassword: NEW_PASSWORD }),
      401,
      "invalid_credentials",
    );
    const after = (await throttleSnapshot(keys)) as Record<string, { tokens: number }>;
    for (const k of keys) expect(after[k]!.tokens).toBeLessThan(before[k]?.tokens ?? Number.POSITIVE_INFINITY);
    // Nothing changed: the old password still logs in.
    expect((await logIn(user.email)).body.status).toBe("authenticated");
  });

  it("ends every other session, keeps this one under a new token, emails a notice; 2FA is still asked at the next login", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const other = await secondStepClient(user.email);
    const oldToken = user.client.cookie;
    const res = await user.client.request("POST", "/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.status).toBe(204);
    expect(user.client.cookie).not.toBe(oldToken);
    expect((await user.client.get("/api/me")).status).toBe(200);
    const stale = new Client();
    stale.cookie = oldToken;
    await expectProblem(await stale.get("/api/me"), 401, "unauthenticated");
    await expectProblem(await other.post("/api/auth/verify", { method: "totp", code: "000000" }), 401, "unauthenticated");
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    expect((await logIn(user.email, NEW_PASSWORD)).body.status).toBe("second_factor_required");
    const notice = mail.to(user.email).at(-1)!;
    expect(notice.subject).toBe("Your password was changed");
    expect(notice.text).not.toContain(NEW_PASSWORD);
    expect(await eventTypesOf(user.id)).toContain("password_changed");
  });

  it("is for full sessions only, and the new password follows the signup rules", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    await expectProblem(await half.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }), 403, "second_factor_required");
    await expectProblem(await new Client().post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD }), 401, "unauthenticated");
    await expectProblem(await user.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: "too short" }), 400, "invalid_request");
    expect((await logIn(user.email)).body.status).toBe("second_factor_required");
  });

  it("a reset link asked for before the change no longer works after it: whoever saw it cannot undo the new password", async () => {
    const user = await newUser();
    const previous = mail.lastToken(user.email, "reset-password");
    expect((await new Client().post("/api/auth/password-reset", { email: user.email })).status).toBe(202);
    const link = await mail.nextToken(user.email, "reset-password", previous);

    // The owner, worried, changes the password from the Security page.
    expect((await user.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);

    const stolen = "a password the attacker chose";
    await expectProblem(await new Client().post("/api/auth/password-reset/confirm", { token: link, password: stolen }), 400, "invalid_token");
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: stolen }), 401, "invalid_credentials");
    expect((await logIn(user.email, NEW_PASSWORD)).body.status).toBe("authenticated");
    expect((await user.client.get("/api/me")).status).toBe(200);
  });
});

describe("a login that checked the old password while the change was reaching D1", () => {
  it("does not outlive the change: once D1 has the new password, the session the old one opened is dead", async () => {
    const user = await newUser();
    // The change's D1 write fails for a while (an outage); the guard has made the change and retries the write.
    // The same holds for the milliseconds between the guard's step and its D1 write, and for a login whose
    // password hash was read before the change and whose session is written after it.
    const intruder = await refusingUserWrites("password_hash", user.id, async () => {
      expect((await user.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
      // Someone who knew the old password logs in meanwhile: D1 still holds its hash.
      const { client, body } = await logIn(user.email);
      expect(body.status).toBe("authenticated");
      return client;
    });
    await runDurableObjectAlarm(guard(user.id)); // the guard's retry lands

    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    expect((await user.client.get("/api/me")).status).toBe(200);
    await expectProblem(await intruder.get("/api/me"), 401, "unauthenticated");
  });

  it("with 2FA on, its second step is refused at once and spends no backup code", async () => {
    const user = await newUser();
    const { backupCodes } = await enableTOTP(user.client);
    await refusingUserWrites("password_hash", user.id, async () => {
      expect((await user.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
      const intruder = await secondStepClient(user.email);
      await expectProblem(await intruder.post("/api/auth/verify", { method: "backup_code", code: backupCodes[0] }), 401, "unauthenticated");
    });
    await runDurableObjectAlarm(guard(user.id));
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    const { client } = await logIn(user.email, NEW_PASSWORD);
    expect((await client.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(200);
  });
});

describe("a login that upgrades the old password's hash while a change lands", () => {
  it("does not write the old password back over the new one", async () => {
    const user = await newUser();
    // A hash from before the cost was raised: the next correct login stores a new hash of the password it checked.
    const cheap = await hashPassword(PASSWORD, { iterations: 500 });
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(cheap, user.id).run();
    const changed = await hashPassword(NEW_PASSWORD, { iterations: Number(env.PASSWORD_ITERATIONS) });
    // The owner's change (or reset) reaches D1 while that login, which read the old hash, is still running:
    // its write lands just before the login's own batch.
    await withTrigger(
      "change_lands_during_login",
      `CREATE TRIGGER change_lands_during_login AFTER INSERT ON sessions WHEN NEW.user_id = '${user.id}'
       BEGIN UPDATE users SET password_hash = '${changed}' WHERE id = NEW.user_id; END`,
      async () => expect((await logIn(user.email)).body.status).toBe("authenticated"),
    );
    const stored = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<string>("password_hash");
    expect(stored).toBe(changed);
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    expect((await logIn(user.email, NEW_PASSWORD)).body.status).toBe("authenticated");
  });
});
