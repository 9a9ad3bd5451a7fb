import { env, SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { Client, problemOf, rawFetch, sessionCookieOf } from "./support/client";
import { previousStepCode } from "./support/codes";
import { enableTOTP, newUser, PASSWORD, reauth, recoveryClient, recoveryLogin, secondStepClient } from "./support/fixtures";
import { OPS_TOKEN, opsReset } from "./support/ops";
import { withTrigger } from "./support/stores";
import { userWithKey } from "./support/webauthn";

/**
 * The smaller findings of the hostile review: a D1 failure that would strand
 * a user after their recovery code was accepted, a session renewal that did
 * not check it renewed anything, links and WebAuthn origins taken from
 * whatever Host a request names, HSTS, and constant-time comparison.
 */

describe("a D1 failure after the guard accepted a recovery code", () => {
  it("does not strand the user: the same session retries with the same code and goes on to enroll; no other session can use it", async () => {
    const { member, code, client } = await recoveryLogin();
    const failed = await withTrigger(
      "fail_recovery_advance",
      `CREATE TRIGGER fail_recovery_advance BEFORE UPDATE OF stage ON sessions
       WHEN NEW.user_id = '${member.id}' AND NEW.stage = 'enrollment'
       BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
      () => client.request("POST", "/api/auth/verify", { method: "recovery_code", code }),
    );
    expect(failed.status).toBe(500);
    expect((await problemOf(failed)).code).toBe("internal");
    expect(sessionCookieOf(failed)).toBeNull();

    const retried = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body).toEqual({ status: "enrollment_required" });
    const start = await client.json("POST", "/api/security/totp", { name: "New phone" });
    const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
    expect(confirm.status).toBe(200);

    // The code was spent by that one session: another login cannot use it, and it was announced once.
    const other = await recoveryClientAfterEnrollment(member.email);
    expect(other).toBe("second_factor_required");
    const used = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'recovery_code_used'")
      .bind(member.id)
      .first<{ n: number }>();
    expect(used?.n).toBe(1);
  });

  it("a second recovery session cannot use a code another session claimed, even while that session's advance failed", async () => {
    const { member, code, client } = await recoveryLogin();
    const rival = await recoveryClient(member);
    await withTrigger(
      "fail_recovery_advance_2",
      `CREATE TRIGGER fail_recovery_advance_2 BEFORE UPDATE OF stage ON sessions
       WHEN NEW.user_id = '${member.id}' AND NEW.stage = 'enrollment'
       BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
      async () => expect((await client.request("POST", "/api/auth/verify", { method: "recovery_code", code })).status).toBe(500),
    );
    const stolen = await rival.request("POST", "/api/auth/verify", { method: "recovery_code", code });
    expect(stolen.status).toBe(401);
    expect((await problemOf(stolen)).code).toBe("invalid_code");
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code })).status).toBe(200);
  });
});

async function recoveryClientAfterEnrollment(email: string): Promise<string> {
  const c = new Client();
  return (await c.json("POST", "/api/auth/login", { email, password: PASSWORD })).body.status;
}

describe("finishing an enrollment checks that the session was really renewed", () => {
  it("a session deleted while the method was being confirmed gets 401 and no new cookie, not a cookie for nothing", async () => {
    const u = await newUser();
    await reauth(u.client);
    const start = await u.client.json("POST", "/api/security/totp", { name: "Phone" });
    const code = await previousStepCode(start.body.secret);
    const res = await withTrigger(
      "end_session_on_method",
      `CREATE TRIGGER end_session_on_method AFTER INSERT ON events
       WHEN NEW.user_id = '${u.id}' AND NEW.type = 'method_added'
       BEGIN DELETE FROM sessions WHERE user_id = '${u.id}'; END`,
      () => u.client.request("POST", `/api/security/totp/${start.body.id}/confirm`, { code }),
    );
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
    expect(sessionCookieOf(res)).toBeNull();
  });
});

describe("relying party, allowed origins and links in emails come from configuration outside localhost", () => {
  let errors: MockInstance;
  afterEach(() => errors?.mockRestore());

  /** The same request as `client` would make, sent to another host (RP_ID and ORIGINS are empty in the test config). */
  function atHost(client: Client, host: string, method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { "CF-Connecting-IP": client.ip, Cookie: `__Host-session=${client.cookie}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return SELF.fetch(`https://${host}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  function captureErrors(): string[] {
    const lines: string[] = [];
    errors = vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    });
    return lines;
  }

  it("key registration and login options on a host that is not localhost: 500 internal and one clear log line naming no request text", async () => {
    const u = await newUser();
    await reauth(u.client);
    const lines = captureErrors();
    const host = "login.attacker-chosen.example";
    const registration = await atHost(u.client, host, "POST", "/api/security/webauthn/options");
    expect(registration.status).toBe(500);
    expect((await problemOf(registration)).code).toBe("internal");
    const { user } = await userWithKey();
    const half = await secondStepClient(user.email);
    const login = await atHost(half, host, "POST", "/api/auth/webauthn/options");
    expect(login.status).toBe(500);
    expect(lines.filter((l) => /RP_ID/.test(l) && /ORIGINS/.test(l) && /docs\/deploy\.md/.test(l))).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain(host);
      expect(line).not.toContain("/api/");
    }
    // The same calls from localhost still work (local development).
    expect((await u.client.request("POST", "/api/security/webauthn/options")).status).toBe(200);
  });

  it("an invitation from a host that is not localhost: 500, no invitation, no email, no slot spent", async () => {
    const admin = await newUser({ community: "Hosts" });
    const lines = captureErrors();
    const before = await env.DB.prepare("SELECT count(*) AS n FROM outbox").first<{ n: number }>();
    const res = await atHost(admin.client, "evil.example", "POST", `/api/communities/${admin.communityId}/invitations`, {
      email: "victim@example.com",
      role: "member",
    });
    expect(res.status).toBe(500);
    expect(lines.some((l) => /ORIGINS/.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("evil.example");
    expect(await env.DB.prepare("SELECT count(*) AS n FROM invitations WHERE community_id = ?").bind(admin.communityId).first<{ n: number }>()).toEqual({
      n: 0,
    });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM outbox").first<{ n: number }>()).toEqual(before);
    // From localhost the invitation goes out with the local origin in its link.
    expect(
      (await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: "friend@example.com", role: "member" })).status,
    ).toBe(201);
    const mail = await env.DB.prepare("SELECT body FROM outbox WHERE recipient = 'friend@example.com'").first<{ body: string }>();
    expect(mail?.body).toContain("http://localhost/");
  });
});

const HSTS = "max-age=63072000; includeSubDomains";

describe("Strict-Transport-Security", () => {
  it("on API answers: success, 401, 404, 413 and 415", async () => {
    const u = await newUser();
    const answers = [
      await u.client.request("GET", "/api/me"),
      await new Client().request("GET", "/api/me"),
      await rawFetch("/api/nope"),
      await new Client().request("POST", "/api/auth/login", "x".repeat(17 * 1024)),
      await new Client().request("POST", "/api/auth/login", "x", { "Content-Type": "text/plain" }),
    ];
    for (const res of answers) expect(res.headers.get("Strict-Transport-Security"), String(res.status)).toBe(HSTS);
  });

  it("on pages, from public/_headers as static assets serve them", async () => {
    for (const path of ["/", "/security", "/admin", "/assets/style.css", "/no-such-page"]) {
      const res = await env.ASSETS.fetch(`http://localhost${path}`);
      expect(res.headers.get("Strict-Transport-Security"), path).toBe(HSTS);
    }
  });
});

describe("constant-time comparison", () => {
  it("password and TOTP checks compare through crypto.subtle.timingSafeEqual where the runtime has it", async () => {
    const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
    expect(typeof subtle.timingSafeEqual).toBe("function");
    const spy = vi.spyOn(subtle, "timingSafeEqual");
    try {
      const u = await newUser();
      const passwordCalls = spy.mock.calls.length;
      expect(passwordCalls).toBeGreaterThan(0);
      for (const [a, b] of spy.mock.calls) expect((a as Uint8Array).byteLength).toBe((b as Uint8Array).byteLength);
      await enableTOTP(u.client);
      expect(spy.mock.calls.length).toBeGreaterThan(passwordCalls);
    } finally {
      spy.mockRestore();
    }
  });

  it("the operator's bearer token is compared through crypto.subtle.timingSafeEqual, as digests of equal length", async () => {
    const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBufferView, b: ArrayBufferView): boolean };
    const spy = vi.spyOn(subtle, "timingSafeEqual");
    try {
      // A wrong token one character off the right one: a comparison that stops at the first difference would take longest here.
      const wrong = `${OPS_TOKEN.slice(0, -1)}${OPS_TOKEN.endsWith("x") ? "y" : "x"}`;
      expect((await opsReset("nobody@example.com", wrong, "192.0.2.77")).status).toBe(401);
      expect(spy.mock.calls.length).toBeGreaterThan(0);
      for (const [a, b] of spy.mock.calls) {
        expect((a as Uint8Array).byteLength).toBe(64);
        expect((b as Uint8Array).byteLength).toBe(64);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
