/// <reference types="vite/client" />
import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import apiMarkdown from "../docs/api.md?raw";
import { ERRORS } from "../src/http/errors";
import { TOKEN_SLOT } from "../src/lib/email-token";
import type { Stage } from "../src/session";
import wranglerToml from "../wrangler.toml?raw";
import { Client, expectProblem, parseSetCookie, rawFetch, sessionCookieOf } from "./support/client";
import { totpCode, wrongTOTP } from "./support/codes";
import {
  enableTOTP,
  halfLoggedIn,
  logIn,
  newUser,
  PASSWORD,
  reauth,
  recoveryClient,
  recoveryLogin,
  resetMember,
  resetWorld,
  secondStepClient,
  uniqueEmail,
  verify,
} from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { OPS_TOKEN, opsReset } from "./support/ops";
import { callerAt, guard, guardRows, sessionRow, updateSession } from "./support/stores";
import { browserWith, logInRemembering, TrustedClient } from "./support/trusted";
import { userWithKey } from "./support/webauthn";

/**
 * Statements of docs/api.md that no other suite proves on their own: which
 * endpoints admit a session of any stage, which take a request with no body
 * and no Content-Type, and the status of every code in the error table.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

/** A client holding a session at `stage`, or none. */
async function clientAt(stage: Stage | "none"): Promise<Client> {
  switch (stage) {
    case "none":
      return new Client();
    case "second_factor":
      return (await halfLoggedIn()).half;
    case "recovery":
      return (await recoveryLogin()).client;
    case "enrollment": {
      const { client, code } = await recoveryLogin();
      expect((await verify(client, "recovery_code", code)).body).toEqual({ status: "enrollment_required" });
      return client;
    }
    case "authenticated":
      return (await newUser()).client;
  }
}

describe('"Signup, login, verify-email, both password-reset calls, device-link and the operator route accept any session or none"', () => {
  const stages: (Stage | "none")[] = ["none", "second_factor", "recovery", "enrollment", "authenticated"];

  it.each(stages)("with %s: each answers its success, not a refusal for the session's stage", async (stage) => {
    const c = await clientAt(stage);
    const cookie = c.cookie;

    const signup = await c.request("POST", "/api/auth/signup", { email: uniqueEmail("any-stage"), password: PASSWORD, name: "Any" });
    expect(signup.status, await signup.clone().text()).toBe(201);
    // Signup sets no cookie: the session the request came with is untouched.
    expect(sessionCookieOf(signup)).toBeNull();
    expect(c.cookie).toBe(cookie);

    const unverified = await newUser({ verified: false });
    const verifyEmail = await c.request("POST", "/api/auth/verify-email", { token: mail.lastToken(unverified.email, "verify-email") });
    expect(verifyEmail.status, await verifyEmail.clone().text()).toBe(200);

    const forgetful = await newUser();
    const reset = await c.request("POST", "/api/auth/password-reset", { email: forgetful.email });
    expect(reset.status, await reset.clone().text()).toBe(202);
    const resetToken = await mail.nextToken(forgetful.email, "reset-password");
    const confirm = await c.request("POST", "/api/auth/password-reset/confirm", { token: resetToken, password: "another long password here" });
    expect(confirm.status, await confirm.clone().text()).toBe(204);

    const linked = await newUser();
    const content = { subject: "Sign in", text: `link: http://localhost/device#token=${TOKEN_SLOT}`, template: "device_link" };
    await guard(linked.id).issueToken(callerAt(linked, Date.now()), "device_link", content);
    const device = await c.request("POST", "/api/auth/device-link", { token: mail.lastToken(linked.email, "device") });
    expect(device.status, await device.clone().text()).toBe(204);
    expect(device.headers.getSetCookie().some((h) => h.startsWith("__Host-device="))).toBe(true);

    const target = await newUser();
    await enableTOTP(target.client);
    const ops = await c.request("POST", "/api/ops/reset-2fa", { email: target.email }, { Authorization: `Bearer ${OPS_TOKEN}` });
    expect(ops.status, await ops.clone().text()).toBe(200);

    // None of those ended or replaced the caller's session.
    expect(c.cookie).toBe(cookie);

    // A login replaces the current session: a new token, and the old one names no session any more.
    const other = await newUser();
    const login = await c.request("POST", "/api/auth/login", { email: other.email, password: PASSWORD });
    expect(login.status, await login.clone().text()).toBe(200);
    expect(c.cookie).not.toBeNull();
    expect(c.cookie).not.toBe(cookie);
    if (cookie) {
      const old = await rawFetch("/api/me", { headers: { Cookie: `__Host-session=${cookie}` } });
      expect(old.status).toBe(401);
    }
  });
});

describe('"A request without a body needs no Content-Type (endpoints whose body is optional accept none)"', () => {
  /** The request as a script sends it when it has nothing to say: no body, no Content-Type. */
  function bare(method: string, path: string, client: Client, headers: Record<string, string> = {}): Promise<Response> {
    return rawFetch(path, { method, headers: { Cookie: `__Host-session=${client.cookie}`, ...headers } });
  }

  it("POST /api/security/totp ({name?}) starts an app without a body", async () => {
    const u = await newUser();
    await reauth(u.client);
    const res = await bare("POST", "/api/security/totp", u.client);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(((await res.json()) as { secret: string }).secret).toMatch(/^[A-Z2-7]+=*$/);
  });

  it("an endpoint whose body is optional takes a request without one whatever Content-Type it names (fetch wrappers send application/json always, beacons text/plain)", async () => {
    const admin = await newUser({ community: "Headers" });
    const u = await newUser();
    await reauth(u.client);
    for (const type of ["application/json", "text/plain;charset=UTF-8"]) {
      const res = await bare("POST", "/api/security/totp", u.client, { "Content-Type": type });
      expect(res.status, `${type}: ${await res.clone().text()}`).toBe(201);
    }
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: u.email, role: "member" });
    const accept = await bare("POST", `/api/invitations/${invite.body.invitation.id}/accept`, u.client, { "Content-Type": "application/json" });
    expect(accept.status, await accept.clone().text()).toBe(200);
    // A body is still a body: an empty JSON object is read as one, a body in another type is refused.
    await expectProblem(await u.client.request("POST", "/api/security/totp", "name=x", { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
    expect((await u.client.request("POST", "/api/security/totp", {})).status).toBe(201);
  });

  it("the body-less POSTs: key options (both), new backup codes, a new verification link, ending the other sessions", async () => {
    const { user } = await userWithKey();
    const half = (await logIn(user.email)).client;
    expect((await bare("POST", "/api/auth/webauthn/options", half)).status).toBe(200);

    const u = await newUser({ verified: false });
    await reauth(u.client);
    expect((await bare("POST", "/api/security/webauthn/options", u.client)).status).toBe(200);
    await enableTOTP(u.client);
    expect((await bare("POST", "/api/security/backup-codes", u.client)).status).toBe(200);
    expect((await bare("POST", "/api/auth/verify-email/resend", u.client)).status).toBe(204);
    expect((await bare("POST", "/api/security/sessions/revoke-others", u.client)).status).toBe(204);
  });

  it("the DELETEs: a session, the remembered browsers, a membership", async () => {
    const u = await newUser();
    const { client: other } = await logIn(u.email);
    const listed = await other.json("GET", "/api/security/sessions");
    const id = (listed.body.sessions as { id: string; current: boolean }[]).find((s) => s.current)?.id;
    expect((await bare("DELETE", `/api/security/sessions/${id}`, u.client)).status).toBe(204);

    const { secret } = await enableTOTP(u.client);
    await logInRemembering(new TrustedClient(), u.email, secret);
    expect((await bare("DELETE", "/api/security/trusted-browsers", u.client)).status).toBe(204);

    const admin = await newUser({ community: "Bare" });
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: u.email, role: "member" });
    expect((await bare("POST", `/api/invitations/${invite.body.invitation.id}/accept`, u.client)).status).toBe(200);
    expect((await bare("DELETE", `/api/communities/${admin.communityId}/members/${u.id}`, u.client)).status).toBe(204);
  });
});

describe('"Error codes": every code of the table, with its status', () => {
  /** The table at the end of docs/api.md: `code` status[/status] entries separated by " · ". */
  function errorTable(): Map<string, number[]> {
    const section = apiMarkdown.slice(apiMarkdown.indexOf("## Error codes"));
    const table = new Map<string, number[]>();
    for (const m of section.matchAll(/`([a-z_]+)`\s+(\d{3}(?:\/\d{3})*)/g)) {
      table.set(m[1] as string, (m[2] as string).split("/").map(Number));
    }
    return table;
  }

  it("the service knows every code of the table, answered with one of the table's statuses, and no code the table lacks", () => {
    const table = errorTable();
    expect(table.size).toBeGreaterThanOrEqual(23);
    expect(Object.keys(ERRORS).sort()).toEqual([...table.keys()].sort());
    for (const [code, { status }] of Object.entries(ERRORS)) expect(table.get(code), code).toContain(status);
  });
});

describe('"More event types": the contract\'s names', () => {
  it("a policy change is `policy_changed` in the acting admin's GET /api/security events", async () => {
    const admin = await newUser({ community: "Named events" });
    await reauth(admin.client);
    const res = await admin.client.json("PUT", `/api/communities/${admin.communityId}/policy`, {
      requireTwoFactor: false,
      graceDays: 3,
      allowTrustedBrowsers: true,
    });
    expect(res.status).toBe(200);
    const security = await admin.client.json("GET", "/api/security");
    expect((security.body.events as { type: string }[]).map((e) => e.type)).toContain("policy_changed");
  });
});

describe('"Session stages": a `recovery` session lives at most 10 minutes', () => {
  it("is written to live 10 minutes, with a cookie of 600 seconds, and is dead once they are over", async () => {
    const { client, code } = await recoveryLogin();
    const row = (await sessionRow(client))!;
    expect(row.stage).toBe("recovery");
    expect(row.expires_at - row.created_at).toBe(10 * 60_000);
    await updateSession(client, { expires_at: Date.now() - 1 });
    await expectProblem(await client.request("POST", "/api/auth/verify", { method: "recovery_code", code }), 401, "unauthenticated");
  });

  it("its cookie says so: Max-Age=600", async () => {
    const world = await resetWorld();
    await resetMember(world);
    const res = await new Client().request("POST", "/api/auth/login", { email: world.member.email, password: PASSWORD });
    expect(parseSetCookie(sessionCookieOf(res))?.attributes.filter((a) => /^Max-Age=/i.test(a))).toEqual(["Max-Age=600"]);
  });
});

describe('"Operator recovery": exactly as an admin reset does', () => {
  async function lockedUser() {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    for (let i = 0; i < 10; i++) expect((await verify(half, "totp", wrongTOTP(secret))).status, `refusal ${i + 1}`).toBe(401);
    const locked = await half.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThanOrEqual(14 * 60);
    return user;
  }

  it('"nothing shortens a running lock but an admin or operator reset": after an operator reset the recovery code is taken at once', async () => {
    const user = await lockedUser();
    const res = await opsReset(user.email);
    expect(res.status).toBe(200);
    const { recoveryCode } = (await res.json()) as { recoveryCode: string };
    const client = await recoveryClient(user);
    expect((await verify(client, "recovery_code", recoveryCode)).body).toEqual({ status: "enrollment_required" });
  });

  it('"Any reset … revokes every trusted browser of the user": the operator\'s too', async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    expect(browser.trusted).toBeTruthy();
    expect((await opsReset(user.email)).status).toBe(200);
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    // The copied cookie does not skip the step the account is at now.
    const copy = browserWith(browser.trusted);
    expect((await copy.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).body).toEqual({
      status: "recovery_code_required",
      methods: ["recovery_code"],
    });
  });

  it('"A new reset replaces an unused code": the operator\'s second reset makes the first code worthless', async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const first = (await (await opsReset(user.email)).json()) as { recoveryCode: string };
    const second = (await (await opsReset(user.email)).json()) as { recoveryCode: string };
    const client = await recoveryClient(user);
    expect((await verify(client, "recovery_code", first.recoveryCode)).status).toBe(401);
    expect((await verify(client, "recovery_code", second.recoveryCode)).body).toEqual({ status: "enrollment_required" });
  });
});

describe('"Deployment contract": the bindings', () => {
  it('wrangler.toml binds D1 as DB, the guard as USER_GUARD and email as [[send_email]] name = "EMAIL"', () => {
    expect(wranglerToml).toMatch(/\[\[d1_databases\]\][^[]*\bbinding\s*=\s*"DB"/);
    expect(wranglerToml).toMatch(/\[\[durable_objects\.bindings\]\][^[]*\bname\s*=\s*"USER_GUARD"/);
    expect(wranglerToml).toMatch(/\[\[send_email\]\][^[]*\bname\s*=\s*"EMAIL"/);
    expect(env.DB).toBeDefined();
    expect(env.USER_GUARD).toBeDefined();
    expect((env as unknown as Record<string, unknown>).EMAIL).toBeDefined();
  });

  it("one guard per user, named idFromName(userId): the object of that name holds the user's methods", async () => {
    const user = await newUser();
    const { methodId } = await enableTOTP(user.client);
    const named = env.USER_GUARD.get(env.USER_GUARD.idFromName(user.id));
    const ids = await runInDurableObject(named, async (_instance, state) =>
      state.storage.sql
        .exec("SELECT id FROM totp")
        .toArray()
        .map((r) => r.id),
    );
    expect(ids).toEqual([methodId]);
  });
});

describe('"Codes are accepted with surrounding spaces": the code that confirms an authenticator app too', () => {
  it("a right code between spaces confirms the app and turns 2FA on", async () => {
    const user = await newUser();
    await reauth(user.client);
    const started = await user.client.json("POST", "/api/security/totp", { name: "Phone" });
    expect(started.status).toBe(201);
    const confirm = await user.client.json("POST", `/api/security/totp/${started.body.id}/confirm`, { code: `  ${totpCode(started.body.secret)} ` });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    expect(confirm.body.backupCodes).toHaveLength(10);
  });
});
