import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { totpCode } from "./support/codes";
import { addAuthenticatorApp, enableTOTP, halfSessions, logIn, newUser, PASSWORD, reauth, verify } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { callerAt, eventTypesOf, guard, guardRows, outboxOf, updateSession } from "./support/stores";
import { registerKey } from "./support/webauthn";

const SECURITY_TYPES = new Set([
  "two_factor_enabled",
  "two_factor_disabled",
  "method_added",
  "method_renamed",
  "method_removed",
  "backup_codes_regenerated",
  "backup_code_used",
  "preferred_method_changed",
  "locked_out",
]);

describe("the second step", () => {
  it("login lists the usable methods, the preferred type first, backup_code while codes remain", async () => {
    const u = await newUser();
    expect((await logIn(u.email)).body).toEqual({ status: "authenticated" });
    const { secret } = await enableTOTP(u.client);
    expect((await logIn(u.email)).body).toEqual({ status: "second_factor_required", methods: ["totp", "backup_code"], preferred: "totp" });

    // A real security key, registered through the API with the software authenticator.
    expect((await registerKey(u.client, await SoftAuthenticator.create(), { name: "YubiKey" })).status).toBe(201);
    expect((await logIn(u.email)).body).toEqual({ status: "second_factor_required", methods: ["totp", "webauthn", "backup_code"], preferred: "totp" });
    const put = await u.client.json("PUT", "/api/security/preferred", { method: "webauthn" });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ preferred: "webauthn" });
    expect((await logIn(u.email)).body).toEqual({ status: "second_factor_required", methods: ["webauthn", "totp", "backup_code"], preferred: "webauthn" });

    // With every backup code spent, backup_code is no longer offered.
    await reauth(u.client);
    const codes = (await u.client.json("POST", "/api/security/backup-codes")).body.codes as string[];
    for (const code of codes) expect(await guard(u.id).verifyBackupCode(callerAt(u, Date.now()), code)).toMatchObject({ ok: true });
    expect((await logIn(u.email)).body).toEqual({ status: "second_factor_required", methods: ["webauthn", "totp"], preferred: "webauthn" });
    expect((await u.client.json("GET", "/api/security")).body.backupCodes.remaining).toBe(0);
    const { client } = await logIn(u.email);
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);
  });

  it("a half-logged-in session reaches nothing but verify, key options and logout", async () => {
    const u = await newUser({ community: "Acme" });
    const { secret } = await enableTOTP(u.client);
    const [half] = (await halfSessions(u.email, 1)) as [Client];
    const doc = await (await new Client().get("/api/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    const open = new Set([
      "/api/auth/signup",
      "/api/auth/login",
      "/api/auth/verify",
      "/api/auth/webauthn/options",
      "/api/auth/logout",
      // The links from emails need no session (docs/api.md "Session stages").
      "/api/auth/verify-email",
      "/api/auth/password-reset",
      "/api/auth/password-reset/confirm",
      "/api/auth/device-link",
      // The operator's route takes a bearer token, not a session.
      "/api/ops/reset-2fa",
    ]);
    let checked = 0;
    for (const [raw, ops] of Object.entries(doc.paths)) {
      const path = (raw.startsWith("/api") ? raw : `/api${raw}`).replace(/\{[^}]+\}/g, "x");
      if (open.has(path) || path === "/api/openapi.json") continue;
      for (const method of Object.keys(ops)) {
        if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
        const res = await half.request(method.toUpperCase(), path, method === "get" || method === "delete" ? undefined : {});
        expect(res.status, `${method} ${path}`).toBe(403);
        expect((await problemOf(res)).code, `${method} ${path}`).toBe("second_factor_required");
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
    // The session itself is fine: the second factor opens the same routes.
    expect((await verify(half, "totp", totpCode(secret))).status).toBe(200);
    expect((await half.get("/api/me")).status).toBe(200);
    expect((await half.get("/api/security")).status).toBe(200);
  });
});

describe("preferred method", () => {
  it("PUT /api/security/preferred needs no password, and refuses a type not set up with 409 method_not_enrolled", async () => {
    const u = await newUser();
    const off = await u.client.put("/api/security/preferred", { method: "totp" });
    expect(off.status).toBe(409);
    expect((await problemOf(off)).code).toBe("method_not_enrolled");

    await enableTOTP(u.client);
    // The re-entered password is long stale: no prompt is needed here.
    await updateSession(u.client, { reauth_at: Date.now() - 60 * 60_000 });
    const missing = await u.client.put("/api/security/preferred", { method: "webauthn" });
    expect(missing.status).toBe(409);
    expect((await problemOf(missing)).code).toBe("method_not_enrolled");
    const ok = await u.client.json("PUT", "/api/security/preferred", { method: "totp" });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ preferred: "totp" });
    for (const bad of [{ method: "backup_code" }, { method: "sms" }, {}]) {
      const res = await u.client.put("/api/security/preferred", bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    }
    expect((await u.client.json("GET", "/api/security")).body.preferred).toBe("totp");
    expect((await u.client.json("GET", "/api/me")).body.twoFactor).toEqual({ enabled: true, preferred: "totp" });
  });
});

describe("disabling 2FA", () => {
  it("refuses a wrong password with 401 invalid_credentials and changes nothing", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const res = await u.client.post("/api/security/disable", { password: `${PASSWORD}!` });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("invalid_credentials");
    expect((await u.client.json("GET", "/api/security")).body).toMatchObject({ enabled: true, backupCodes: { remaining: 10 } });
    const { client, body } = await logIn(u.email);
    expect(body.status).toBe("second_factor_required");
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);
  });

  it("with the password removes every method and backup code, ends the other sessions, and the password alone logs in", async () => {
    const u = await newUser();
    const { secret, backupCodes } = await enableTOTP(u.client);
    await addAuthenticatorApp(u.client, { name: "Tablet" });
    const full = await logIn(u.email);
    expect((await verify(full.client, "totp", totpCode(secret))).status).toBe(200);
    const half = await logIn(u.email);
    // No recent re-entry needed: the password is in the body.
    await updateSession(u.client, { reauth_at: null });

    const res = await u.client.json("POST", "/api/security/disable", { password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ enabled: false });

    const sec = await u.client.json("GET", "/api/security");
    expect(sec.status).toBe(200);
    expect(sec.body).toMatchObject({ enabled: false, preferred: null, methods: [], backupCodes: { remaining: 0 } });
    expect(await guardRows(u.id, "SELECT id FROM totp")).toEqual([]);
    expect(await guardRows(u.id, "SELECT hash FROM backup_codes")).toEqual([]);
    expect((await u.client.json("GET", "/api/me")).body.twoFactor).toEqual({ enabled: false, preferred: null });

    expect((await full.client.get("/api/me")).status).toBe(401);
    expect((await half.client.post("/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(401);

    const after = await logIn(u.email);
    expect(after.body).toEqual({ status: "authenticated" });
    expect((await after.client.get("/api/me")).status).toBe(200);

    // Turning it on again is a first method again: ten new codes, the old ones dead.
    const again = await enableTOTP(u.client);
    expect(again.backupCodes).toHaveLength(10);
    expect(again.backupCodes).not.toContain(backupCodes[0]);
    const { client } = await logIn(u.email);
    expect((await verify(client, "backup_code", backupCodes[1] as string)).status).toBe(401);
  });
});

describe("security events", () => {
  it("records each change, shows them newest first in GET /api/security, and emails the ones the user must know", async () => {
    const u = await newUser();
    const { secret, backupCodes } = await enableTOTP(u.client);
    const tablet = await addAuthenticatorApp(u.client, { name: "Tablet" });
    await reauth(u.client);
    expect((await u.client.patch(`/api/security/methods/${tablet.methodId}`, { name: "Old tablet" })).status).toBe(200);
    expect((await u.client.delete(`/api/security/methods/${tablet.methodId}`)).status).toBe(204);
    expect((await u.client.post("/api/security/backup-codes")).status).toBe(200);
    expect((await u.client.put("/api/security/preferred", { method: "totp" })).status).toBe(200);
    const fresh = (await u.client.json("POST", "/api/security/backup-codes")).body.codes as string[];
    const { client } = await logIn(u.email);
    expect((await verify(client, "backup_code", fresh[0] as string)).status).toBe(200);
    expect((await u.client.post("/api/security/disable", { password: PASSWORD })).status).toBe(200);

    const expected = [
      "two_factor_enabled",
      "method_added",
      "method_added",
      "method_renamed",
      "method_removed",
      "backup_codes_regenerated",
      "preferred_method_changed",
      "backup_codes_regenerated",
      "backup_code_used",
      "two_factor_disabled",
    ];
    expect((await eventTypesOf(u.id)).filter((t) => SECURITY_TYPES.has(t))).toEqual(expected);

    const sec = await u.client.json("GET", "/api/security");
    const events = sec.body.events as { type: string; at: string; ip?: string; userAgent?: string }[];
    expect(events.length).toBeLessThanOrEqual(20);
    expect(events.map((e) => e.type).filter((t) => SECURITY_TYPES.has(t))).toEqual([...expected].reverse());
    for (let i = 1; i < events.length; i++) expect(Date.parse(events[i - 1]?.at as string)).toBeGreaterThanOrEqual(Date.parse(events[i]?.at as string));
    expect(events[0]).toMatchObject({ type: "two_factor_disabled", ip: u.client.ip });
    expect(events.find((e) => e.type === "method_renamed")).toMatchObject({ data: { methodName: "Old tablet", previousName: "Tablet" } });

    // The signup's verification link is not a security event's email.
    const mails = (await outboxOf(u.id)).filter((m) => m.template !== "verify_email");
    expect(mails.map((m) => m.template)).toEqual([
      "two_factor_enabled",
      "method_added",
      "method_removed",
      "backup_codes_regenerated",
      "backup_codes_regenerated",
      "backup_code_used",
      // logIn() is a browser new to the account.
      "new_browser_login",
      "two_factor_disabled",
    ]);
    for (const m of mails) {
      expect(m.recipient).toBe(u.email);
      for (const code of [...backupCodes, ...fresh]) expect(m.body).not.toContain(code);
      expect(m.body).not.toContain(secret);
    }
  });

  it("shows at most the last 20", async () => {
    const u = await newUser();
    const { methodId } = await enableTOTP(u.client);
    await reauth(u.client);
    for (let i = 1; i <= 25; i++) expect((await u.client.patch(`/api/security/methods/${methodId}`, { name: `Phone ${i}` })).status).toBe(200);
    const events = (await u.client.json("GET", "/api/security")).body.events as { type: string; data?: { methodName?: string } }[];
    expect(events).toHaveLength(20);
    expect(events[0]).toMatchObject({ type: "method_renamed", data: { methodName: "Phone 25" } });
    expect(events[19]).toMatchObject({ type: "method_renamed", data: { methodName: "Phone 6" } });
  });
});
