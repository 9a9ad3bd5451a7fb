import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { Client, expectProblem, parseSetCookie, problemOf, rawFetch, sessionCookieOf } from "./support/client";
import { totpCode } from "./support/codes";
import { enableTOTP, halfLoggedIn, logIn, newUser, PASSWORD, reauth, recoveryLogin } from "./support/fixtures";
import { sessionRow, tokenHash, updateSession, withTrigger } from "./support/stores";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Route {
  method: string;
  path: string;
}

/** Every operation of the OpenAPI document, so a new route is covered without editing this file. */
async function documentedRoutes(): Promise<Route[]> {
  const doc = (await (await rawFetch("/api/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (["get", "post", "put", "patch", "delete"].includes(method)) routes.push({ method: method.toUpperCase(), path });
    }
  }
  return routes;
}

const key = (r: Route) => `${r.method} ${r.path}`;

/** Calls a documented route with made-up ids and an empty JSON body where one is taken. */
function call(client: Client, route: Route): Promise<Response> {
  const path = route.path.replace(/\{[^}]+\}/g, "some-id");
  return client.request(route.method, path, ["POST", "PUT", "PATCH"].includes(route.method) ? {} : undefined);
}

/** Signup, login and the links from emails accept any session or none; logout always answers; the operator's route takes a bearer token, not a session. */
const OPEN = [
  "POST /api/auth/signup",
  "POST /api/auth/login",
  "POST /api/auth/logout",
  "POST /api/auth/verify-email",
  "POST /api/auth/password-reset",
  "POST /api/auth/password-reset/confirm",
  "POST /api/auth/device-link",
  "POST /api/ops/reset-2fa",
];

async function expectOnlyAllowed(client: Client, allowed: string[], refusal: string) {
  const routes = await documentedRoutes();
  // The document must hold the contract's endpoints, or this test would pass on an empty list.
  for (const must of [
    "GET /api/me",
    "POST /api/security/reauth",
    "GET /api/communities/{cid}/members",
    "POST /api/invitations/{id}/accept",
    "GET /api/security",
  ]) {
    expect(routes.map(key)).toContain(must);
  }
  const refused: string[] = [];
  const wrong: string[] = [];
  for (const route of routes) {
    if (allowed.includes(key(route)) || OPEN.includes(key(route))) continue;
    const res = await call(client, route);
    const body = res.status === 403 ? await problemOf(res) : null;
    if (body?.code === refusal) refused.push(key(route));
    else wrong.push(`${key(route)} -> ${res.status} ${body?.code ?? ""}`);
  }
  expect(wrong).toEqual([]);
  expect(refused.length).toBeGreaterThan(10);
}

describe("half-logged-in sessions reach nothing else", () => {
  it("second_factor: every documented route but verify, webauthn options and logout is 403 second_factor_required", async () => {
    const { half, secret } = await halfLoggedIn();
    await expectOnlyAllowed(half, ["POST /api/auth/verify", "POST /api/auth/webauthn/options"], "second_factor_required");
    // The session survived all that and can still finish the login.
    const verify = await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(verify.body).toEqual({ status: "authenticated" });
  });

  it("recovery: everything but verify and logout is 403 second_factor_required", async () => {
    const { client, code } = await recoveryLogin();
    await expectOnlyAllowed(client, ["POST /api/auth/verify"], "second_factor_required");
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code })).body).toEqual({ status: "enrollment_required" });
  });

  it("enrollment: everything but /api/me, the enrollment calls and logout is 403 enrollment_required", async () => {
    const { client, code } = await recoveryLogin();
    await client.post("/api/auth/verify", { method: "recovery_code", code });
    expect((await sessionRow(client))?.stage).toBe("enrollment");
    await expectOnlyAllowed(
      client,
      ["GET /api/me", "POST /api/security/totp", "POST /api/security/totp/{id}/confirm", "POST /api/security/webauthn/options", "POST /api/security/webauthn"],
      "enrollment_required",
    );
  });

  it("a second_factor session cannot skip the second step by calling verify with a recovery code", async () => {
    const { half } = await halfLoggedIn();
    const res = await half.json("POST", "/api/auth/verify", { method: "recovery_code", code: "aaaa-bbbb-cccc-dddd" });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_request");
    expect((await sessionRow(half))?.stage).toBe("second_factor");
  });

  it("a fully logged-in session calling verify is refused and stays as it is", async () => {
    const u = await newUser();
    const res = await u.client.json("POST", "/api/auth/verify", { method: "totp", code: "123456" });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("invalid_request");
    expect((await sessionRow(u.client))?.stage).toBe("authenticated");
  });
});

describe("stage changes issue a new token", () => {
  it("second_factor -> authenticated: new cookie, the old token is dead", async () => {
    const { half, secret } = await halfLoggedIn();
    const old = half.cookie!;
    const res = await half.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(res.status).toBe(200);
    const cookie = parseSetCookie(sessionCookieOf(res));
    expect(cookie?.name).toBe("__Host-session");
    expect(cookie?.value).not.toBe(old);
    expect(await env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(tokenHash(old)).first()).toBeNull();
    const replay = new Client();
    replay.cookie = old;
    expect((await replay.json("GET", "/api/me")).status).toBe(401);
    expect((await half.json("GET", "/api/me")).body.stage).toBe("authenticated");
  });
});

describe("server-side expiry", () => {
  it("a half session is written to live exactly 10 minutes, with a matching cookie", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const half = new Client();
    const res = await half.request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    const row = (await sessionRow(half))!;
    expect(row.stage).toBe("second_factor");
    expect(row.expires_at - row.created_at).toBe(10 * MINUTE);
    // The cookie lives exactly as long as the session: 600 seconds.
    expect(parseSetCookie(sessionCookieOf(res))?.attributes.filter((a) => /^Max-Age=/i.test(a))).toEqual(["Max-Age=600"]);
  });

  it("a half session 9 minutes old still works; past 10 minutes it is dead, even with the right code", async () => {
    const { half, secret } = await halfLoggedIn();
    const now = Date.now();
    await updateSession(half, { created_at: now - 9 * MINUTE, last_seen_at: now - 9 * MINUTE, expires_at: now + MINUTE });
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).body).toEqual({ status: "authenticated" });

    const { half: late, secret: lateSecret } = await halfLoggedIn();
    await updateSession(late, { created_at: now - 10 * MINUTE - 1000, last_seen_at: now - 10 * MINUTE - 1000, expires_at: now - 1000 });
    const res = await late.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(lateSecret) });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
  });

  it("the enrollment stage lives 10 minutes too", async () => {
    const { client, code } = await recoveryLogin();
    await client.post("/api/auth/verify", { method: "recovery_code", code });
    const row = (await sessionRow(client))!;
    expect(row.stage).toBe("enrollment");
    expect(row.expires_at - row.created_at).toBe(10 * MINUTE);
    await updateSession(client, { expires_at: Date.now() - 1 });
    const res = await client.json("GET", "/api/me");
    expect(res.status).toBe(401);
  });

  it("a full session is written with a 12-hour absolute lifetime", async () => {
    const u = await newUser();
    const row = (await sessionRow(u.client))!;
    expect(row.expires_at - row.created_at).toBe(12 * HOUR);
  });

  it("idle: 59 minutes without a request is fine, 61 minutes ends the session", async () => {
    const u = await newUser();
    await updateSession(u.client, { last_seen_at: Date.now() - 59 * MINUTE });
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
    // The request refreshed last_seen_at (it is written at most every few minutes, and 59 > that).
    await expect.poll(async () => Date.now() - (await sessionRow(u.client))!.last_seen_at, { timeout: 2000 }).toBeLessThan(MINUTE);

    const idle = await newUser();
    await updateSession(idle.client, { last_seen_at: Date.now() - 61 * MINUTE });
    const res = await idle.client.json("GET", "/api/me");
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
  });

  it("absolute: a session used every 50 minutes still ends 12 hours after login", async () => {
    // The clock the Worker reads (Date.now(); the Worker shares this test's isolate) is frozen and
    // moved; no row is edited. Each use must be recorded, or the hour of idleness would end it first.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const login = Date.now();
      const u = await newUser();
      for (let t = 50 * MINUTE; t < 12 * HOUR; t += 50 * MINUTE) {
        vi.setSystemTime(login + t);
        expect((await u.client.json("GET", "/api/me")).status).toBe(200);
        await expect.poll(async () => (await sessionRow(u.client))?.last_seen_at, { timeout: 2000 }).toBe(login + t);
      }
      vi.setSystemTime(login + 12 * HOUR - 1);
      expect((await u.client.json("GET", "/api/me")).status).toBe(200);
      vi.setSystemTime(login + 12 * HOUR);
      const res = await u.client.json("GET", "/api/me");
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("unauthenticated");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a dead session's row is deleted when it is presented", async () => {
    const u = await newUser();
    const id = tokenHash(u.client.cookie!);
    await updateSession(u.client, { expires_at: Date.now() - 1 });
    expect((await u.client.json("GET", "/api/me")).status).toBe(401);
    await expect.poll(async () => env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(id).first(), { timeout: 2000 }).toBeNull();
  });

  it("dead rows whose cookie is never presented again do not stay forever: the user's next login deletes them", async () => {
    // Logins whose browser dropped the cookie: an abandoned second step, a cleared cookie, a script logging in and
    // throwing every cookie away. Each left a row that nothing else ever deleted.
    const u = await newUser();
    await enableTOTP(u.client);
    const dropped: Client[] = [];
    for (let i = 0; i < 3; i++) {
      const c = new Client();
      expect((await c.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).body.status).toBe("second_factor_required");
      dropped.push(c);
    }
    for (const c of dropped.slice(0, 2)) await updateSession(c, { expires_at: Date.now() - 1 });
    // A full session idle past its hour is as dead.
    await updateSession(u.client, { last_seen_at: Date.now() - HOUR - MINUTE });
    const ids = [...dropped, u.client].map((c) => tokenHash(c.cookie!));
    const live = tokenHash(dropped[2]!.cookie!);

    await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    const left = await Promise.all(ids.map((id) => env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(id).first()));
    expect(left.map((row, i) => (row ? ids[i] : null)).filter(Boolean)).toEqual([live]);
  });
});

describe("a session written after its user's epoch moved on", () => {
  it("a login whose row reaches D1 just after a reset (or a disable, a method removal) raised the epoch there is dead, though nothing deleted it", async () => {
    const user = await newUser();
    // An admin's reset lands in D1 (the epoch raised, older sessions deleted) between the login's guard call and
    // its INSERT: the row is written at the epoch the guard gave before the reset, and no later DELETE will come.
    const late = await withTrigger(
      "epoch_lands_before_login",
      `CREATE TRIGGER epoch_lands_before_login BEFORE INSERT ON sessions WHEN NEW.user_id = '${user.id}'
       BEGIN
         UPDATE users SET session_epoch = NEW.epoch + 1 WHERE id = NEW.user_id;
         DELETE FROM sessions WHERE user_id = NEW.user_id AND epoch < NEW.epoch + 1;
       END`,
      async () => {
        const { client, body } = await logIn(user.email);
        expect(body.status).toBe("authenticated");
        return client;
      },
    );
    // The row is there: only the check of its epoch against its user's (isLive) stands between it and the account.
    expect(await sessionRow(late)).not.toBeNull();
    await expectProblem(await late.get("/api/me"), 401, "unauthenticated");
  });
});

describe("reauth (sudo)", () => {
  it("POST /api/security/reauth: 204 for the right password, 401 invalid_credentials for a wrong one", async () => {
    const u = await newUser();
    const wrong = await u.client.request("POST", "/api/security/reauth", { password: "not my password at all" });
    expect(wrong.status).toBe(401);
    expect((await problemOf(wrong)).code).toBe("invalid_credentials");
    expect((await sessionRow(u.client))?.reauth_at).toBeNull();
    const before = Date.now();
    const right = await u.client.request("POST", "/api/security/reauth", { password: PASSWORD });
    expect(right.status).toBe(204);
    expect((await sessionRow(u.client))?.reauth_at).toBeGreaterThanOrEqual(before);
  });

  it("needs a full session", async () => {
    expect((await new Client().json("POST", "/api/security/reauth", { password: PASSWORD })).body.code).toBe("unauthenticated");
    const { half } = await halfLoggedIn();
    expect((await half.json("POST", "/api/security/reauth", { password: PASSWORD })).body.code).toBe("second_factor_required");
  });

  it("sudo endpoints answer 403 reauth_required without it, and work after it", async () => {
    const u = await newUser();
    const res = await u.client.request("POST", "/api/security/totp", { name: "Phone" });
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("reauth_required");
    await reauth(u.client);
    expect((await u.client.json("POST", "/api/security/totp", { name: "Phone" })).status).toBe(201);
  });

  it("lasts 10 minutes: 9 minutes after reauth a sudo call works, 10 minutes after it is refused", async () => {
    const u = await newUser();
    const { methodId } = await enableTOTP(u.client);
    await updateSession(u.client, { reauth_at: Date.now() - 9 * MINUTE });
    expect((await u.client.json("PATCH", `/api/security/methods/${methodId}`, { name: "Still fresh" })).status).toBe(200);
    await updateSession(u.client, { reauth_at: Date.now() - 10 * MINUTE - 1000 });
    const res = await u.client.json("PATCH", `/api/security/methods/${methodId}`, { name: "Too late" });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("reauth_required");
  });

  it("belongs to the session: another session of the same user is not in sudo", async () => {
    const u = await newUser();
    await reauth(u.client);
    const other = new Client();
    await other.post("/api/auth/login", { email: u.email, password: PASSWORD });
    expect((await other.json("POST", "/api/security/totp", {})).body.code).toBe("reauth_required");
  });

  it("a login does not grant sudo", async () => {
    const u = await newUser();
    expect((await sessionRow(u.client))?.reauth_at).toBeNull();
  });

  it("wrong re-entered passwords are slowed per account (429 with Retry-After), and a right one is not counted", async () => {
    const u = await newUser();
    for (let i = 0; i < 5; i++) expect((await u.client.request("POST", "/api/security/reauth", { password: PASSWORD })).status).toBe(204);
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 11; i++) {
      last = await u.client.request("POST", "/api/security/reauth", { password: `wrong password number ${i}` });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(last!)).code).toBe("too_many_attempts");
  });
});
