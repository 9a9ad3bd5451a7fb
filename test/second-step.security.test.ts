import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { totpCode } from "./support/codes";
import { communityWithMember, enableTOTP, halfLoggedIn, newUser, PASSWORD, reauth, recoveryLogin, type TestUser } from "./support/fixtures";
import { d1Snapshot, guardCounters, guardSnapshot, sessionRow, updateSession, worldSnapshot } from "./support/stores";

/**
 * Attacks on the second step and on the calls that change a user's second
 * factors. Every refusal is checked twice: the answer, and that D1 and the
 * guards hold exactly what they held before (or, for a counted wrong code,
 * exactly one more failure and nothing else).
 */

const MINUTE = 60_000;

/** Everything but the guard's failure count: what a counted refusal may change. */
function withoutFailures(snapshot: Record<string, unknown>): Record<string, unknown> {
  const state = (snapshot.state as Record<string, unknown>[]).map(({ failures: _f, ...rest }) => rest);
  return { ...snapshot, state };
}

async function me(client: Client) {
  const res = await client.get("/api/me");
  return { status: res.status, code: res.status === 200 ? null : (await problemOf(res)).code };
}

describe("a failed verify sets no cookie and upgrades nothing", () => {
  it("a wrong TOTP code: 401, no Set-Cookie, the session stays second_factor, /api/me stays 403", async () => {
    const { user, secret, half } = await halfLoggedIn();
    const rowBefore = await sessionRow(half);
    const cookieBefore = half.cookie;
    const d1Before = await d1Snapshot();
    const guardBefore = await guardSnapshot(user.id);

    const wrong = totpCode(secret, Date.now() - 10 * MINUTE); // a real code of the wrong time: well-formed, refused
    const res = await half.request("POST", "/api/auth/verify", { method: "totp", code: wrong });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("invalid_code");
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(half.cookie).toBe(cookieBefore);

    expect(await sessionRow(half)).toEqual(rowBefore);
    expect(rowBefore?.stage).toBe("second_factor");
    expect(await me(half)).toEqual({ status: 403, code: "second_factor_required" });
    expect(await d1Snapshot()).toEqual(d1Before);
    // The guard counted the failure, and changed nothing else.
    const guardAfter = await guardSnapshot(user.id);
    expect((guardAfter.state as { failures: number }[])[0]?.failures).toBe(1);
    expect(withoutFailures(guardAfter)).toEqual(withoutFailures(guardBefore));
  });

  it("a wrong backup code and a wrong recovery code upgrade nothing either", async () => {
    const { half } = await halfLoggedIn();
    const res = await half.request("POST", "/api/auth/verify", { method: "backup_code", code: "00000-00000" });
    expect(res.status).toBe(401);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect((await sessionRow(half))?.stage).toBe("second_factor");

    const { client } = await recoveryLogin();
    const rowBefore = await sessionRow(client);
    const wrong = await client.request("POST", "/api/auth/verify", { method: "recovery_code", code: "0000-0000-0000-0000" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("Set-Cookie")).toBeNull();
    expect(await sessionRow(client)).toEqual(rowBefore);
    expect(await me(client)).toEqual({ status: 403, code: "second_factor_required" });
  });
});

describe("the user of a half-logged-in session comes only from server state", () => {
  it("another user's valid TOTP code, with body and query fields naming them, fails and never logs into them", async () => {
    const { user: alice, half } = await halfLoggedIn();
    const bob = await newUser();
    const { secret: bobSecret } = await enableTOTP(bob.client);
    const bobGuardBefore = await guardSnapshot(bob.id);
    const bobsCode = totpCode(bobSecret);

    const res = await half.request("POST", `/api/auth/verify?userId=${bob.id}&email=${encodeURIComponent(bob.email)}`, {
      method: "totp",
      code: bobsCode,
      userId: bob.id,
      user_id: bob.id,
      user: { id: bob.id, email: bob.email },
      email: bob.email,
      sessionId: "x",
    });
    expect([400, 401]).toContain(res.status);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect((await sessionRow(half))?.user_id).toBe(alice.id);
    expect((await sessionRow(half))?.stage).toBe("second_factor");
    // Bob's guard was never asked: his code is unspent and his counters untouched.
    expect(await guardSnapshot(bob.id)).toEqual(bobGuardBefore);

    // The very same code still logs Bob in through his own session.
    const bobHalf = new Client();
    await bobHalf.json("POST", "/api/auth/login", { email: bob.email, password: PASSWORD });
    const ok = await bobHalf.json("POST", "/api/auth/verify", { method: "totp", code: bobsCode });
    expect(ok.body).toEqual({ status: "authenticated" });
  });

  it("another user's backup code fails in my session and stays usable by them", async () => {
    const { half } = await halfLoggedIn();
    const bob = await newUser();
    const { backupCodes } = await enableTOTP(bob.client);
    const code = backupCodes[0] as string;
    const res = await half.request("POST", "/api/auth/verify", { method: "backup_code", code, userId: bob.id, email: bob.email });
    expect(res.status).toBe(401);
    const bobHalf = new Client();
    await bobHalf.json("POST", "/api/auth/login", { email: bob.email, password: PASSWORD });
    expect((await bobHalf.json("POST", "/api/auth/verify", { method: "backup_code", code })).body).toEqual({ status: "authenticated" });
  });
});

describe("malformed codes are 400 invalid_request and never reach the failure count", () => {
  const TOTP_CASES: [string, unknown][] = [
    ["an empty string", ""],
    ["null", null],
    ["an array", ["123456"]],
    ["an empty array", []],
    ["a number", 123456],
    ["an object", { code: "123456" }],
    ["a boolean", true],
    ["7 digits", "1234567"],
    ["5 digits", "12345"],
    ["a 10 KB string", "1".repeat(10 * 1024)],
    ["Arabic-Indic digits", "١٢٣٤٥٦"],
    ["fullwidth digits", "１２３４５６"],
    ["Devanagari digits", "१२३४५६"],
    ["a NUL inside", "123\u0000456"],
    ["a NUL after six digits", "123456\u0000"],
    ["letters", "abcdef"],
    ["a sign", "+12345"],
    ["a decimal", "12345.6"],
  ];

  it.each(TOTP_CASES)("totp: %s", async (_label, code) => {
    const { user, half } = await halfLoggedIn();
    const before = await worldSnapshot();
    const res = await half.request("POST", "/api/auth/verify", { method: "totp", code });
    expect(res.status).toBe(400);
    const problem = (await problemOf(res)) as { code: string; errors?: { path: string }[] };
    expect(problem.code).toBe("invalid_request");
    expect(problem.errors?.map((e) => e.path)).toContain("code");
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await guardCounters(user.id)).toMatchObject({ failures: 0, locked_until: 0 });
    expect(await worldSnapshot()).toEqual(before);
  });

  const BACKUP_CASES: [string, unknown][] = [
    ["an empty string", ""],
    ["null", null],
    ["an array", ["abcde-fghjk"]],
    ["a number", 1234567890],
    ["9 characters", "abcde-fghj"],
    ["11 characters", "abcde-fghjkm"],
    ["a 10 KB string", "a".repeat(10 * 1024)],
    ["fullwidth characters", "ａｂｃｄｅ-ｆｇｈｊｋ"],
    ["Arabic-Indic digits", "١٢٣٤٥-٦٧٨٩٠"],
    ["a NUL inside", "abcde\u0000fghjk"],
    ["a letter outside Crockford's alphabet", "abcde-fghju"],
  ];

  it.each(BACKUP_CASES)("backup_code: %s", async (_label, code) => {
    const { user, half } = await halfLoggedIn();
    const before = await worldSnapshot();
    const res = await half.request("POST", "/api/auth/verify", { method: "backup_code", code });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
    expect(await guardCounters(user.id)).toMatchObject({ failures: 0, locked_until: 0 });
    expect(await worldSnapshot()).toEqual(before);
  });

  it.each([
    ["no method", { code: "123456" }],
    ["an unknown method", { method: "sms", code: "123456" }],
    ["method as an array", { method: ["totp"], code: "123456" }],
    ["a recovery code in a second_factor session", { method: "recovery_code", code: "0000-0000-0000-0000" }],
    ["a JSON array body", [{ method: "totp", code: "123456" }]],
    ["a JSON string body", "123456"],
  ])("%s", async (_label, body) => {
    const { user, half } = await halfLoggedIn();
    const before = await worldSnapshot();
    const res = await half.request("POST", "/api/auth/verify", typeof body === "string" ? JSON.stringify(body) : body);
    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe("invalid_request");
    expect(await guardCounters(user.id)).toMatchObject({ failures: 0 });
    expect(await worldSnapshot()).toEqual(before);
  });

  it("recovery_code: malformed ones are 400 and uncounted; the code is still accepted afterwards", async () => {
    const { member, code, client } = await recoveryLogin();
    const before = await guardSnapshot(member.id);
    for (const bad of ["", null, 42, ["x"], "0000-0000-0000-000", "x".repeat(10 * 1024), "１２３４-５６７８-９０ab-cdef", "0000\u00000000-0000-0000"]) {
      const res = await client.request("POST", "/api/auth/verify", { method: "recovery_code", code: bad });
      expect(res.status, JSON.stringify(bad)?.slice(0, 40)).toBe(400);
    }
    expect(await guardSnapshot(member.id)).toEqual(before);
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code })).body).toEqual({ status: "enrollment_required" });
  });

  it("for contrast, a well-formed wrong code is 401 invalid_code and is counted", async () => {
    const { user, secret, half } = await halfLoggedIn();
    const right = totpCode(secret);
    const wrong = right === "000000" ? "000001" : "000000";
    const res = await half.request("POST", "/api/auth/verify", { method: "totp", code: wrong });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("invalid_code");
    expect((await guardCounters(user.id)).failures).toBe(1);
  });

  it("surrounding spaces are not malformed (docs/api.md): a right code with spaces logs in", async () => {
    const { secret, half } = await halfLoggedIn();
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: ` ${totpCode(secret)} ` })).body).toEqual({ status: "authenticated" });
  });
});

describe("changing second factors needs the password, and a refusal changes nothing", () => {
  async function enabledWithoutSudo(): Promise<TestUser & { methodId: string; secret: string; backupCodes: string[] }> {
    const u = await newUser();
    const t = await enableTOTP(u.client);
    // enableTOTP re-entered the password; let that run out (sudo lasts 10 minutes).
    await updateSession(u.client, { reauth_at: Date.now() - 11 * MINUTE });
    return { ...u, ...t };
  }

  async function refusedUnchanged(u: TestUser, method: string, path: string, body: unknown, expected: { status: number; code: string }) {
    const before = await worldSnapshot();
    const res = await u.client.request(method, path, body);
    expect(res.status, `${method} ${path}`).toBe(expected.status);
    expect((await problemOf(res)).code).toBe(expected.code);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(await worldSnapshot()).toEqual(before);
  }

  it("regenerating backup codes: 403 reauth_required; every old code still works", async () => {
    const u = await enabledWithoutSudo();
    await refusedUnchanged(u, "POST", "/api/security/backup-codes", undefined, { status: 403, code: "reauth_required" });
    const half = new Client();
    await half.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect((await half.json("POST", "/api/auth/verify", { method: "backup_code", code: u.backupCodes[0] })).body).toEqual({ status: "authenticated" });
  });

  it("adding an authenticator app: 403 reauth_required, no pending enrollment", async () => {
    const u = await enabledWithoutSudo();
    await refusedUnchanged(u, "POST", "/api/security/totp", { name: "Attacker's phone" }, { status: 403, code: "reauth_required" });
  });

  it("confirming an app whose enrollment began under sudo, after sudo ran out: 403, the app stays unconfirmed", async () => {
    const u = await newUser();
    await reauth(u.client);
    const start = await u.client.json("POST", "/api/security/totp", { name: "Phone" });
    await updateSession(u.client, { reauth_at: Date.now() - 11 * MINUTE });
    await refusedUnchanged(
      u,
      "POST",
      `/api/security/totp/${start.body.id}/confirm`,
      { code: totpCode(start.body.secret) },
      { status: 403, code: "reauth_required" },
    );
    expect((await u.client.json("GET", "/api/security")).body.enabled).toBe(false);
  });

  it("adding a security key: options and registration are 403 reauth_required", async () => {
    const u = await enabledWithoutSudo();
    await refusedUnchanged(u, "POST", "/api/security/webauthn/options", undefined, { status: 403, code: "reauth_required" });
    await refusedUnchanged(
      u,
      "POST",
      "/api/security/webauthn",
      { name: "Key", response: { id: "AAAA", type: "public-key" } },
      { status: 403, code: "reauth_required" },
    );
  });

  it("removing and renaming a method: 403 reauth_required", async () => {
    const u = await enabledWithoutSudo();
    await refusedUnchanged(u, "DELETE", `/api/security/methods/${u.methodId}`, undefined, { status: 403, code: "reauth_required" });
    await refusedUnchanged(u, "PATCH", `/api/security/methods/${u.methodId}`, { name: "Renamed" }, { status: 403, code: "reauth_required" });
  });

  it("disabling without the password in the body is 400, even right after a reauth", async () => {
    const u = await newUser();
    await enableTOTP(u.client); // leaves sudo open
    await refusedUnchanged(u, "POST", "/api/security/disable", {}, { status: 400, code: "invalid_request" });
    await refusedUnchanged(u, "POST", "/api/security/disable", { password: null }, { status: 400, code: "invalid_request" });
    expect((await u.client.json("GET", "/api/security")).body.enabled).toBe(true);
  });

  it("disabling with a wrong password: 401 invalid_credentials; only the re-entry bucket moved", async () => {
    const u = await enabledWithoutSudo();
    const d1Before = await d1Snapshot();
    const guardBefore = await guardSnapshot(u.id);
    const res = await u.client.request("POST", "/api/security/disable", { password: "not the password at all" });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("invalid_credentials");
    expect(await d1Snapshot()).toEqual(d1Before);
    // A wrong password spends a token of the per-account bucket (by design); nothing else changes.
    const strip = (s: Record<string, unknown>) => ({
      ...s,
      state: (s.state as Record<string, unknown>[]).map(({ password_tokens: _t, password_tokens_at: _a, ...rest }) => rest),
    });
    expect(strip(await guardSnapshot(u.id))).toEqual(strip(guardBefore));
    expect((await u.client.json("GET", "/api/security")).body.enabled).toBe(true);
  });
});

describe("sessions after 2FA changes", () => {
  /** Three sessions of one user with TOTP: the acting one, another full one, and one half-way through login. */
  async function threeSessions() {
    const u = await newUser();
    const t = await enableTOTP(u.client);
    const other = new Client();
    await other.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    const v = await other.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(t.secret) });
    expect(v.body).toEqual({ status: "authenticated" });
    const half = new Client();
    await half.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect((await sessionRow(half))?.stage).toBe("second_factor");
    return { u, t, other, half };
  }

  it("logout ends that one session only", async () => {
    const { u, other, half } = await threeSessions();
    const res = await u.client.request("POST", "/api/auth/logout");
    expect(res.status).toBe(204);
    expect(u.client.cookie).toBeNull();
    expect((await me(other)).status).toBe(200);
    expect((await sessionRow(half))?.stage).toBe("second_factor");
  });

  it("a logged-out token replayed is dead", async () => {
    const u = await newUser();
    const token = u.client.cookie;
    await u.client.post("/api/auth/logout");
    const replay = new Client();
    replay.cookie = token;
    expect(await me(replay)).toEqual({ status: 401, code: "unauthenticated" });
  });

  it("disabling 2FA ends every other session, full or half, and keeps the current one", async () => {
    const { u, t, other, half } = await threeSessions();
    const epochBefore = (await guardCounters(u.id)).epoch;
    const res = await u.client.json("POST", "/api/security/disable", { password: PASSWORD });
    expect(res.status).toBe(200);
    expect((await guardCounters(u.id)).epoch).toBe(epochBefore + 1);
    expect((await me(u.client)).status).toBe(200);
    expect(await me(other)).toEqual({ status: 401, code: "unauthenticated" });
    // The half session cannot finish with a code that was valid a moment ago.
    const late = await half.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(t.secret) });
    expect(late.status).toBe(401);
    expect((await problemOf(late)).code).toBe("unauthenticated");
    expect(await sessionRow(other)).toBeNull();
  });

  it("removing a method ends every other session, full or half, and keeps the current one", async () => {
    const { u, other, half } = await threeSessions();
    const second = await u.client.json("POST", "/api/security/totp", { name: "Tablet" });
    const secondSecret = second.body.secret as string;
    expect((await u.client.json("POST", `/api/security/totp/${second.body.id}/confirm`, { code: totpCode(secondSecret) })).status).toBe(200);
    const methods = (await u.client.json("GET", "/api/security")).body.methods as { id: string; name: string }[];
    const phone = methods.find((m) => m.name === "Phone") as { id: string };
    expect((await u.client.request("DELETE", `/api/security/methods/${phone.id}`)).status).toBe(204);
    expect((await me(u.client)).status).toBe(200);
    expect((await u.client.json("GET", "/api/security")).body.methods).toHaveLength(1);
    expect(await me(other)).toEqual({ status: 401, code: "unauthenticated" });
    const late = await half.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(secondSecret, Date.now() + 30_000) });
    expect(late.status).toBe(401);
    expect((await problemOf(late)).code).toBe("unauthenticated");
  });

  it("an admin reset ends every session of the member, the member's current one included", async () => {
    const { admin, member, cid } = await communityWithMember();
    const t = await enableTOTP(member.client);
    const half = new Client();
    await half.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
    // Only an admin with 2FA may reset.
    await enableTOTP(admin.client);
    const reset = await admin.client.json("POST", `/api/communities/${cid}/members/${member.id}/reset-2fa`, { password: PASSWORD });
    expect(reset.status).toBe(200);
    expect(await me(member.client)).toEqual({ status: 401, code: "unauthenticated" });
    const late = await half.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(t.secret) });
    expect(late.status).toBe(401);
    expect((await me(admin.client)).status).toBe(200);
    // The member's guard no longer knows the old app.
    const rows = await guardSnapshot(member.id);
    expect(rows.totp).toEqual([]);
  });
});
