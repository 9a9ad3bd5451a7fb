import { describe, expect, it } from "vitest";
import { Client, problemOf, sessionCookieOf } from "./support/client";
import { previousStepCode } from "./support/codes";
import { addAuthenticatorApp, enableTOTP, logIn, newUser, PASSWORD, reauth, recoveryClient, resetMember, resetWorld } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { sessionRow } from "./support/stores";
import { registerKey } from "./support/webauthn";

/**
 * docs/api.md "Turning 2FA on": the first confirmed method ends every other
 * session of the user; the caller's continues under a new token, keeping its
 * stage and its re-entered password. The attack: someone who had the password
 * logged in before the owner turned 2FA on, and keeps that password-only
 * session to re-enter the password and regenerate the backup codes.
 */

/** A second, password-only session of the same account (another browser). */
async function passwordOnlySession(email: string): Promise<Client> {
  const { client, body } = await logIn(email);
  expect(body).toMatchObject({ status: "authenticated" });
  return client;
}

async function expectEnded(client: Client): Promise<void> {
  for (const [method, path, body] of [
    ["GET", "/api/me", undefined],
    ["POST", "/api/security/reauth", { password: PASSWORD }],
    ["POST", "/api/security/backup-codes", undefined],
  ] as const) {
    const res = await client.request(method, path, body);
    expect(res.status, `${method} ${path}`).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
  }
}

describe("turning 2FA on ends every other session", () => {
  it("with an authenticator app: the attacker's password-only session gets 401, before and after re-entering the password", async () => {
    const owner = await newUser();
    const attacker = await passwordOnlySession(owner.email);
    await reauth(attacker);
    await enableTOTP(owner.client);
    await expectEnded(attacker);
  });

  it("with a security key as the first method: the same", async () => {
    const owner = await newUser();
    const attacker = await passwordOnlySession(owner.email);
    const reg = await registerKey(owner.client, await SoftAuthenticator.create());
    expect(reg.status).toBe(201);
    await expectEnded(attacker);
  });

  it("the caller continues under a new token: the old one is dead, stage, lifetime and the re-entered password are kept", async () => {
    const owner = await newUser();
    await reauth(owner.client);
    const before = await sessionRow(owner.client);
    const oldToken = owner.client.cookie;
    const start = await owner.client.json("POST", "/api/security/totp", { name: "Phone" });
    const confirm = await owner.client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
    expect(confirm.status).toBe(200);
    expect(sessionCookieOf(confirm.res)).toMatch(/^__Host-session=[^;]+;/);
    expect(owner.client.cookie).not.toBe(oldToken);
    const after = await sessionRow(owner.client);
    expect(after).toMatchObject({ stage: "authenticated", created_at: before?.created_at, expires_at: before?.expires_at, reauth_at: before?.reauth_at });
    // Still within the re-entered password's 10 minutes: a sudo call needs no new prompt.
    expect((await owner.client.request("POST", "/api/security/backup-codes")).status).toBe(200);
    const stale = new Client();
    stale.cookie = oldToken;
    expect((await stale.request("GET", "/api/me")).status).toBe(401);
  });

  it("an enrollment session (after an admin reset) becomes authenticated under a new token; the member's other half-logged-in sessions end", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const enrolling = await recoveryClient(world.member);
    const otherRecovery = await recoveryClient(world.member);
    expect((await enrolling.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
    const start = await enrolling.json("POST", "/api/security/totp", { name: "New phone" });
    const confirm = await enrolling.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
    expect(confirm.status).toBe(200);
    expect((await enrolling.json("GET", "/api/me")).body.stage).toBe("authenticated");
    const res = await otherRecovery.request("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
  });

  it("adding a second method does not end other sessions (only turning 2FA on does)", async () => {
    const owner = await newUser();
    await enableTOTP(owner.client);
    const other = new Client();
    const login = await other.json("POST", "/api/auth/login", { email: owner.email, password: PASSWORD });
    expect(login.body.status).toBe("second_factor_required");
    await addAuthenticatorApp(owner.client, { name: "Tablet" });
    // Still the half-logged-in session it was: 403 second_factor_required, not 401.
    const me = await other.request("GET", "/api/me");
    expect(me.status).toBe(403);
    expect((await problemOf(me)).code).toBe("second_factor_required");
  });
});
