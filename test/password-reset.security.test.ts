import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { enableTOTP, logIn, newUser, PASSWORD, uniqueEmail } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { callerAt, eventTypesOf, everythingStored, guard, guardRows, outboxOf, tokenHash, worldSnapshot } from "./support/stores";

/**
 * Password reset by email, attacked: enumeration (unknown and known emails
 * answer alike; only the known one gets mail), the token's single use, expiry,
 * owner and shape, and what a reset does to sessions and 2FA.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

const NEW_PASSWORD = "a brand new password of mine";

function secretOf(token: string): string {
  return token.slice(token.indexOf(".") + 1);
}

async function requestReset(email: string, client = new Client()): Promise<Response> {
  return client.post("/api/auth/password-reset", { email });
}

/** Asks for a reset link and reads it from the delivered email. */
async function resetToken(email: string): Promise<string> {
  const previous = mail.lastToken(email, "reset-password");
  const res = await requestReset(email);
  expect(res.status).toBe(202);
  return mail.nextToken(email, "reset-password", previous);
}

describe("asking for a reset link", () => {
  it("answers an unknown and a known email alike (202, empty body, same headers); only the known one is emailed", async () => {
    const user = await newUser({ verified: false });
    const unknown = uniqueEmail("nobody");
    const a = await requestReset(unknown);
    const b = await requestReset(user.email);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect([await a.text(), await b.text()]).toEqual(["", ""]);
    const headers = (r: Response) => [...r.headers.entries()].filter(([k]) => k !== "x-request-id").sort();
    expect(headers(a)).toEqual(headers(b));
    await mail.nextToken(user.email, "reset-password");
    expect(mail.to(unknown)).toEqual([]);
    const sent = mail.to(user.email).filter((m) => m.subject === "Reset your password");
    expect(sent).toHaveLength(1);
    const token = mail.lastToken(user.email, "reset-password")!;
    expect(token.startsWith(`${user.id}.`)).toBe(true);
    // The token is in that one email and nowhere at rest.
    const secret = secretOf(token);
    expect(mail.delivered.filter((m) => m.text.includes(secret))).toHaveLength(1);
    expect(await everythingStored(user.id)).not.toContain(secret);
    const [row] = (await outboxOf(user.id)).filter((r) => r.template === "password_reset_link");
    expect(row!.body).toContain("/reset-password#token=[link removed from this copy]");
  });

  it("is throttled per email (known or not) and the 429 is the same for both", async () => {
    const user = await newUser({ verified: false });
    const unknown = uniqueEmail("nobody");
    for (let i = 0; i < 3; i++) {
      expect((await requestReset(user.email)).status).toBe(202);
      expect((await requestReset(unknown)).status).toBe(202);
    }
    const known = await requestReset(user.email);
    const other = await requestReset(unknown);
    await expectProblem(known, 429, "too_many_attempts");
    await expectProblem(other, 429, "too_many_attempts");
    expect(known.headers.get("Retry-After")).toBe(other.headers.get("Retry-After"));
  });

  it("a newer request replaces the older link", async () => {
    const user = await newUser({ verified: false });
    const first = await resetToken(user.email);
    const second = await resetToken(user.email);
    expect(second).not.toBe(first);
    await expectProblem(await new Client().post("/api/auth/password-reset/confirm", { token: first, password: NEW_PASSWORD }), 400, "invalid_token");
    expect((await new Client().post("/api/auth/password-reset/confirm", { token: second, password: NEW_PASSWORD })).status).toBe(204);
  });
});

describe("confirming a reset", () => {
  it("sets the password, ends every session, marks the email verified, emails a notice and logs nobody in; 2FA is still asked", async () => {
    const user = await newUser({ verified: false });
    const { secret } = await enableTOTP(user.client);
    // The email is proven first: then 2FA stays.
    const verify = mail.lastToken(user.email, "verify-email")!;
    expect((await new Client().post("/api/auth/verify-email", { token: verify })).status).toBe(200);
    const second = (await logIn(user.email)).client;
    const token = await resetToken(user.email);
    const opener = new Client();
    const res = await opener.request("POST", "/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().filter((c) => c.startsWith("__Host-session=") && !c.startsWith("__Host-session=;"))).toEqual([]);
    await expectProblem(await user.client.get("/api/me"), 401, "unauthenticated");
    await expectProblem(await second.get("/api/me"), 401, "unauthenticated");
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    const login = await logIn(user.email, NEW_PASSWORD);
    expect(login.body.status).toBe("second_factor_required");
    expect(await guard(user.id).emailVerified()).toBe(true);
    expect(mail.to(user.email).at(-1)!.subject).toBe("Your password was changed");
    expect(mail.to(user.email).at(-1)!.text).toContain("Two-factor authentication stays on.");
    expect(await eventTypesOf(user.id)).toContain("password_reset");
    expect(secret).toBeTruthy();
  });

  it("an account whose email was never verified loses its 2FA methods and backup codes (the owner takes over)", async () => {
    const user = await newUser({ verified: false });
    await enableTOTP(user.client);
    const token = await resetToken(user.email);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);
    const login = await logIn(user.email, NEW_PASSWORD);
    expect(login.body.status).toBe("authenticated");
    const me = await login.client.json("GET", "/api/me");
    expect(me.body.twoFactor.enabled).toBe(false);
    expect(me.body.user.emailVerified).toBe(true);
    expect(await guardRows(user.id, "SELECT hash FROM backup_codes")).toEqual([]);
    expect(await guardRows(user.id, "SELECT id FROM totp")).toEqual([]);
    // The login above, from a browser new to the account, is alerted too: the notice is read by its subject.
    const notice = mail.to(user.email).find((m) => m.subject === "Your password was changed");
    expect(notice?.text).toContain("two-factor methods and backup codes set up on the account were removed");
  });

  it("of 20 parallel confirmations of one link exactly one succeeds", async () => {
    const user = await newUser({ verified: false });
    const token = await resetToken(user.email);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new Client().request("POST", "/api/auth/password-reset/confirm", { token, password: `${NEW_PASSWORD} ${i}` })),
    );
    expect(answers.filter((r) => r.status === 204)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 204)) await expectProblem(r, 400, "invalid_token");
    expect((await eventTypesOf(user.id)).filter((t) => t === "password_reset")).toHaveLength(1);
  });

  it("expires at exactly its end (30 minutes)", async () => {
    const user = await newUser({ verified: false });
    const token = await resetToken(user.email);
    const [row] = await guardRows<{ created_at: number; expires_at: number }>(
      user.id,
      "SELECT created_at, expires_at FROM tokens WHERE purpose = 'password_reset'",
    );
    expect(row!.expires_at - row!.created_at).toBe(30 * 60 * 1000);
    const who = { id: user.id, email: user.email, name: user.name };
    const hash = tokenHash(secretOf(token));
    const refused = await guard(user.id).resetPassword(callerAt(who, row!.expires_at), hash, "not-a-real-hash", []);
    expect(refused).toEqual({ ok: false, reason: "invalid" });
    await guardRows(user.id, "UPDATE tokens SET expires_at = ? RETURNING purpose", Date.now() - 1);
    const before = await worldSnapshot();
    await expectProblem(await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD }), 400, "invalid_token");
    expect(await worldSnapshot()).toEqual(before);
  });

  it("another user's id, malformed tokens and a too-short password change nothing", async () => {
    const a = await newUser({ verified: false });
    const b = await newUser({ verified: false });
    const token = await resetToken(a.email);
    const before = await worldSnapshot();
    for (const t of [`${b.id}.${secretOf(token)}`, "nope", `${token}x`, `${a.id}.`, `.${secretOf(token)}`]) {
      await expectProblem(await new Client().post("/api/auth/password-reset/confirm", { token: t, password: NEW_PASSWORD }), 400, "invalid_token");
    }
    await expectProblem(await new Client().post("/api/auth/password-reset/confirm", { token, password: "short" }), 400, "invalid_request");
    expect(await worldSnapshot()).toEqual(before);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);
  });
});
