import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords";
import { Client, parseSetCookie, problemOf, sessionCookieOf } from "./support/client";
import { enableTOTP, newUser, PASSWORD, recoveryLogin, uniqueEmail } from "./support/fixtures";
import { rowCounts, sessionRow, tokenHash } from "./support/stores";

async function signup(client: Client, body: Record<string, unknown>) {
  return client.json("POST", "/api/auth/signup", body);
}

async function storedHash(userId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(userId).first<{ password_hash: string }>();
  return row!.password_hash;
}

describe("POST /api/auth/signup", () => {
  it("answers 201 with exactly {user: {id, email, name}} and writes a signed_up event", async () => {
    const email = uniqueEmail();
    const res = await signup(new Client(), { email, password: PASSWORD, name: "Ada Lovelace" });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ user: { id: expect.any(String), email, name: "Ada Lovelace" } });
    const event = await env.DB.prepare("SELECT type FROM events WHERE user_id = ?").bind(res.body.user.id).first<{ type: string }>();
    expect(event?.type).toBe("signed_up");
  });

  it("sets no cookie, and leaves the caller's current session as it was", async () => {
    const ada = await newUser();
    const res = await ada.client.request("POST", "/api/auth/signup", { email: uniqueEmail(), password: PASSWORD, name: "Second" });
    expect(res.status).toBe(201);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    const me = await ada.client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(ada.email);
  });

  it("trims and lower-cases the email, and treats case variants as the same account", async () => {
    const local = uniqueEmail("MiXeD");
    const res = await signup(new Client(), { email: `  ${local.toUpperCase()}  `, password: PASSWORD, name: "Case" });
    expect(res.status).toBe(201);
    expect(res.body.user.email).toBe(local.toLowerCase());
    const again = await signup(new Client(), { email: local.toLowerCase(), password: PASSWORD, name: "Case" });
    expect(again.status).toBe(409);
    const login = await new Client().json("POST", "/api/auth/login", { email: ` ${local.toUpperCase()}`, password: PASSWORD });
    expect(login.body).toEqual({ status: "authenticated" });
  });

  it("answers 409 email_taken for the same email, and creates nothing", async () => {
    const email = uniqueEmail();
    expect((await signup(new Client(), { email, password: PASSWORD, name: "First" })).status).toBe(201);
    const before = await rowCounts();
    const res = await new Client().request("POST", "/api/auth/signup", { email, password: `${PASSWORD}!`, name: "Second", community: "Grab" });
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("email_taken");
    expect(await rowCounts()).toEqual(before);
  });

  it("two simultaneous signups for one email: exactly one account", async () => {
    const email = uniqueEmail();
    const results = await Promise.all([1, 2, 3].map(() => signup(new Client(), { email, password: PASSWORD, name: "Race", community: "Race" })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    const users = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email = ?").bind(email).first<{ n: number }>();
    expect(users?.n).toBe(1);
    const orphans = await env.DB.prepare(
      "SELECT count(*) AS n FROM communities c WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.community_id = c.id)",
    ).first<{
      n: number;
    }>();
    expect(orphans?.n).toBe(0);
  });

  describe("password length: 15 to 128 code points after NFC", () => {
    const cases: [string, string, number][] = [
      ["14 ASCII characters", "a".repeat(14), 400],
      ["15 ASCII characters", "a".repeat(15), 201],
      ["128 ASCII characters", "a".repeat(128), 201],
      ["129 ASCII characters", "a".repeat(129), 400],
      // U+1F600 is two UTF-16 units but one code point.
      ["14 emoji (28 UTF-16 units)", "😀".repeat(14), 400],
      ["15 emoji", "😀".repeat(15), 201],
      ["128 emoji (256 UTF-16 units)", "😀".repeat(128), 201],
      ["129 emoji", "😀".repeat(129), 400],
      // e + combining acute is two code points before NFC and one (é) after.
      ["14 decomposed é (28 code points before NFC)", "e\u0301".repeat(14), 400],
      ["15 decomposed é", "e\u0301".repeat(15), 201],
      ["128 decomposed é (256 code points before NFC)", "e\u0301".repeat(128), 201],
    ];
    for (const [name, password, status] of cases) {
      it(`${name}: ${status}`, async () => {
        const res = await signup(new Client(), { email: uniqueEmail(), password, name: "Len" });
        expect(res.status).toBe(status);
        if (status === 400) {
          expect(res.body.code).toBe("invalid_request");
          expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["password"]);
        }
      });
    }

    it("a password signed up decomposed logs in composed (NFC on both sides)", async () => {
      const email = uniqueEmail();
      expect((await signup(new Client(), { email, password: "e\u0301".repeat(15), name: "NFC" })).status).toBe(201);
      const login = await new Client().json("POST", "/api/auth/login", { email, password: "\u00e9".repeat(15) });
      expect(login.body).toEqual({ status: "authenticated" });
    });
  });

  it("with a community: the community is made and the user is its admin", async () => {
    const u = await newUser({ community: "Lovelace Society" });
    const me = await u.client.json("GET", "/api/me");
    expect(me.body.communities).toEqual([{ id: expect.any(String), name: "Lovelace Society", role: "admin" }]);
    const members = await u.client.json("GET", `/api/communities/${me.body.communities[0].id}/members`);
    expect(members.status).toBe(200);
    expect(members.body.members.map((m: { id: string; role: string }) => [m.id, m.role])).toEqual([[u.id, "admin"]]);
  });
});

describe("POST /api/auth/login", () => {
  it("a user without 2FA is authenticated at once", async () => {
    const u = await newUser();
    const res = await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "authenticated" });
  });

  it("sets __Host-session with exactly HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=43200 (12 hours) and no Domain", async () => {
    const u = await newUser();
    const res = await new Client().request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    const cookie = parseSetCookie(sessionCookieOf(res));
    expect(cookie?.name).toBe("__Host-session");
    // A full session's cookie lives exactly as long as the session: 12 hours.
    expect([...cookie!.attributes].sort()).toEqual(["HttpOnly", "Max-Age=43200", "Path=/", "SameSite=Lax", "Secure"]);
  });

  it("the token carries at least 128 random bits and only its hash is stored", async () => {
    const u = await newUser();
    const c = new Client();
    await c.post("/api/auth/login", { email: u.email, password: PASSWORD });
    const token = c.cookie!;
    const bytes = Uint8Array.from(atob(token.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0));
    expect(bytes.length * 8).toBeGreaterThanOrEqual(128);
    const row = await sessionRow(c);
    expect(row?.id).toBe(tokenHash(token));
    expect(row?.stage).toBe("authenticated");
    const leak = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE id = ? OR ip = ? OR user_agent = ?")
      .bind(token, token, token)
      .first<{ n: number }>();
    expect(leak?.n).toBe(0);
  });

  it("gives a new token at every login", async () => {
    const u = await newUser();
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const c = new Client();
      await c.post("/api/auth/login", { email: u.email, password: PASSWORD });
      tokens.add(c.cookie!);
    }
    expect(tokens.size).toBe(3);
  });

  it("replaces the current session: the old token stops working and its row is gone", async () => {
    const u = await newUser();
    const old = u.client.cookie!;
    const res = await u.client.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(res.status).toBe(200);
    expect(u.client.cookie).not.toBe(old);
    const stale = new Client();
    stale.cookie = old;
    expect((await stale.json("GET", "/api/me")).status).toBe(401);
    expect(await env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(tokenHash(old)).first()).toBeNull();
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("a login from a half-logged-in session replaces it too", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const half = new Client();
    await half.post("/api/auth/login", { email: u.email, password: PASSWORD });
    const old = half.cookie!;
    const again = await half.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(again.body.status).toBe("second_factor_required");
    expect(half.cookie).not.toBe(old);
    expect(await env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(tokenHash(old)).first()).toBeNull();
  });

  it("logging in as someone else from the same client replaces the first user's session", async () => {
    const a = await newUser();
    const b = await newUser();
    const old = a.client.cookie!;
    await a.client.post("/api/auth/login", { email: b.email, password: PASSWORD });
    expect((await a.client.json("GET", "/api/me")).body.user.email).toBe(b.email);
    expect(await env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(tokenHash(old)).first()).toBeNull();
  });

  it("writes a logged_in event for a password-only login", async () => {
    const u = await newUser();
    const events = await env.DB.prepare("SELECT type, ip FROM events WHERE user_id = ? AND type = 'logged_in'").bind(u.id).all<{ type: string; ip: string }>();
    expect(events.results).toEqual([{ type: "logged_in", ip: u.client.ip }]);
  });

  it("wrong password and unknown email: 401 invalid_credentials with the same body", async () => {
    const u = await newUser();
    const wrong = await new Client().request("POST", "/api/auth/login", { email: u.email, password: `${PASSWORD}x` });
    const unknown = await new Client().request("POST", "/api/auth/login", { email: uniqueEmail("nobody"), password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [await wrong.text(), await unknown.text()];
    expect(a).toBe(b);
    expect(JSON.parse(a).code).toBe("invalid_credentials");
    expect(wrong.headers.get("Set-Cookie")).toBeNull();
  });

  it("a wrong password does not end the caller's current session", async () => {
    const u = await newUser();
    await u.client.post("/api/auth/login", { email: u.email, password: "not the password at all" });
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
  });
});

describe("POST /api/auth/logout", () => {
  it("answers 204 without a session, and with a garbage cookie", async () => {
    const none = await new Client().request("POST", "/api/auth/logout");
    expect(none.status).toBe(204);
    const garbage = new Client();
    garbage.cookie = "not-a-real-token";
    expect((await garbage.request("POST", "/api/auth/logout")).status).toBe(204);
  });

  it("deletes the session server-side: the old cookie no longer works even if replayed", async () => {
    const u = await newUser();
    const token = u.client.cookie!;
    const res = await u.client.request("POST", "/api/auth/logout");
    expect(res.status).toBe(204);
    const cleared = parseSetCookie(sessionCookieOf(res));
    expect(cleared?.name).toBe("__Host-session");
    expect(cleared?.attributes).toContain("Max-Age=0");
    expect(await env.DB.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(tokenHash(token)).first()).toBeNull();
    const replay = new Client();
    replay.cookie = token;
    const me = await replay.request("GET", "/api/me");
    expect(me.status).toBe(401);
    expect((await problemOf(me)).code).toBe("unauthenticated");
  });

  it("ends a half-logged-in session too", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const half = new Client();
    await half.post("/api/auth/login", { email: u.email, password: PASSWORD });
    const token = half.cookie!;
    expect((await half.request("POST", "/api/auth/logout")).status).toBe(204);
    const replay = new Client();
    replay.cookie = token;
    const verify = await replay.json("POST", "/api/auth/verify", { method: "totp", code: "123456" });
    expect(verify.status).toBe(401);
    expect(verify.body.code).toBe("unauthenticated");
  });

  it("ends only this session: the user's other sessions keep working", async () => {
    const u = await newUser();
    const other = new Client();
    await other.post("/api/auth/login", { email: u.email, password: PASSWORD });
    await u.client.post("/api/auth/logout");
    expect((await other.json("GET", "/api/me")).status).toBe(200);
  });
});

describe("GET /api/me", () => {
  it("answers the contract's shape for a fresh account", async () => {
    const u = await newUser({ name: "Grace Hopper", verified: false });
    const me = await u.client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      user: { id: u.id, email: u.email, name: "Grace Hopper", emailVerified: false },
      stage: "authenticated",
      communities: [],
      twoFactor: { enabled: false, preferred: null },
    });
  });

  it("shows two-factor state once TOTP is on", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const me = await u.client.json("GET", "/api/me");
    expect(me.body.twoFactor).toEqual({ enabled: true, preferred: "totp" });
  });

  it("no session: 401 unauthenticated", async () => {
    const res = await new Client().request("GET", "/api/me");
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
  });

  it("second_factor stage: 403 second_factor_required", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const half = new Client();
    await half.post("/api/auth/login", { email: u.email, password: PASSWORD });
    const res = await half.request("GET", "/api/me");
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("second_factor_required");
  });

  it("recovery stage: 403 second_factor_required; enrollment stage: 200 with stage enrollment", async () => {
    const { member, code, client } = await recoveryLogin();
    const res = await client.request("GET", "/api/me");
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("second_factor_required");
    const verify = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code });
    expect(verify.body).toEqual({ status: "enrollment_required" });
    const me = await client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.stage).toBe("enrollment");
    expect(me.body.user.id).toBe(member.id);
  });
});

describe("rehash on login", () => {
  async function userWithHash(iterations: number): Promise<{ id: string; email: string }> {
    const u = await newUser();
    const hash = await hashPassword(PASSWORD, { iterations });
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(hash, u.id).run();
    return { id: u.id, email: u.email };
  }

  it("a hash cheaper than PASSWORD_ITERATIONS is replaced at the next correct login", async () => {
    expect(Number(env.PASSWORD_ITERATIONS)).toBeGreaterThan(500);
    const u = await userWithHash(500);
    const before = await storedHash(u.id);
    expect(before.startsWith("pbkdf2-sha256$500$")).toBe(true);
    const login = await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(login.body).toEqual({ status: "authenticated" });
    const after = await storedHash(u.id);
    expect(after).not.toBe(before);
    expect(after.split("$").slice(0, 2)).toEqual(["pbkdf2-sha256", env.PASSWORD_ITERATIONS]);
    // The new hash still verifies the same password.
    expect((await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).body).toEqual({ status: "authenticated" });
  });

  it("a wrong password never rehashes", async () => {
    const u = await userWithHash(500);
    const before = await storedHash(u.id);
    await new Client().json("POST", "/api/auth/login", { email: u.email, password: "wrong wrong wrong wrong" });
    expect(await storedHash(u.id)).toBe(before);
  });

  it("a hash stronger than the configured cost is kept, never downgraded", async () => {
    const u = await userWithHash(Number(env.PASSWORD_ITERATIONS) * 2);
    const before = await storedHash(u.id);
    expect((await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(200);
    expect(await storedHash(u.id)).toBe(before);
  });
});
