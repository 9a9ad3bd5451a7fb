import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { enableTOTP, newUser, PASSWORD, reauth, secondStepClient } from "./support/fixtures";
import { b64url, ExcludedCredentialError, SoftAuthenticator } from "./support/soft-authenticator";
import { guard } from "./support/stores";
import { loginOptions, registerKey, userWithKey, verifyWithKey } from "./support/webauthn";

describe("security key registration", () => {
  it("offers creation options for this RP with ES256, EdDSA and RS256, resident key and user verification preferred, no attestation", async () => {
    const user = await newUser();
    await reauth(user.client);
    const { status, body } = await user.client.json("POST", "/api/security/webauthn/options");
    expect(status).toBe(200);
    expect(body.rp).toEqual({ id: "localhost", name: "Edge 2FA" });
    expect(body.user.name).toBe(user.email);
    expect(body.user.displayName).toBe(user.name);
    // The user handle is the opaque user id, never the email (§14.6.1).
    expect(body.user.id).toBe(b64url(new TextEncoder().encode(user.id)));
    expect(body.pubKeyCredParams.map((p: { alg: number }) => p.alg).sort((a: number, b: number) => a - b)).toEqual([-257, -8, -7]);
    expect(body.authenticatorSelection).toMatchObject({ residentKey: "preferred", userVerification: "preferred" });
    expect(body.attestation).toBe("none");
    expect(body.timeout).toBe(300_000);
    expect(body.excludeCredentials).toEqual([]);
    expect(body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes
  });

  it("needs the password re-entered", async () => {
    const user = await newUser();
    const res = await user.client.post("/api/security/webauthn/options");
    expect(res.status).toBe(403);
    expect((await problemOf(res)).code).toBe("reauth_required");
    const reg = await user.client.post("/api/security/webauthn", { name: "x", response: {} });
    expect((await problemOf(reg)).code).toBe("reauth_required");
  });

  it("registers a first key: 201, 2FA on, ten backup codes, listed with its name, event and email", async () => {
    const user = await newUser();
    const auth = await SoftAuthenticator.create();
    const reg = await registerKey(user.client, auth, { name: "  Blue key  " });
    expect(reg.status).toBe(201);
    expect(reg.body.method).toMatchObject({ type: "webauthn", name: "Blue key", lastUsedAt: null });
    expect(reg.body.backupCodes).toHaveLength(10);

    const sec = await user.client.json("GET", "/api/security");
    expect(sec.body.enabled).toBe(true);
    expect(sec.body.preferred).toBe("webauthn");
    expect(sec.body.methods).toEqual([reg.body.method]);
    expect(sec.body.backupCodes.remaining).toBe(10);
    expect(sec.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["two_factor_enabled", "method_added"]));

    // D1 learned the key with its credential id (the cross-account uniqueness check reads it).
    const row = await env.DB.prepare("SELECT type, name, credential_id FROM methods WHERE id = ?").bind(reg.body.method.id).first();
    expect(row).toEqual({ type: "webauthn", name: "Blue key", credential_id: auth.id });
  });

  it("stores the public key, counter, transports, backup flags, AAGUID, name and times in the guard", async () => {
    const { user, auth, methodId } = await userWithKey();
    const rows = await guard(user.id).summary();
    expect(rows.methods[0]?.id).toBe(methodId);
    const stored = await runInDurableObject(guard(user.id), (_i, state) => state.storage.sql.exec("SELECT * FROM webauthn").toArray());
    expect(stored).toHaveLength(1);
    const key = stored[0] as Record<string, unknown>;
    expect(key.credential_id).toBe(auth.id);
    expect(new Uint8Array(key.public_key as ArrayBuffer)).toEqual(await auth.coseKey());
    expect(key).toMatchObject({
      counter: 0,
      transports: JSON.stringify(["usb"]),
      device_type: "singleDevice",
      backed_up: 0,
      aaguid: "00000000-0000-0000-0000-000000000000",
      name: "My key",
      last_used_at: null,
    });
    expect(typeof key.created_at).toBe("number");
  });

  it("excludes the user's existing keys from new options; a second key adds no backup codes", async () => {
    const { user, auth } = await userWithKey();
    await reauth(user.client);
    const options = await user.client.json("POST", "/api/security/webauthn/options");
    expect(options.body.excludeCredentials).toEqual([{ id: auth.id, type: "public-key", transports: ["usb"] }]);
    // An authenticator that already holds an excluded credential refuses to make another.
    await expect(auth.register(options.body)).rejects.toBeInstanceOf(ExcludedCredentialError);

    const second = await SoftAuthenticator.create();
    const reg = await registerKey(user.client, second, { name: "Spare" });
    expect(reg.status).toBe(201);
    expect(reg.body.backupCodes).toBeUndefined();
    await reauth(user.client);
    const again = await user.client.json("POST", "/api/security/webauthn/options");
    expect(again.body.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([auth.id, second.id]);
  });

  it("accepts a name-less registration under a default name and refuses an over-long name", async () => {
    const user = await newUser();
    const auth = await SoftAuthenticator.create();
    await reauth(user.client);
    const options = await user.client.json("POST", "/api/security/webauthn/options");
    const response = await auth.register(options.body);
    const long = await user.client.json("POST", "/api/security/webauthn", { name: "x".repeat(101), response });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe("invalid_request");
    const reg = await user.client.json("POST", "/api/security/webauthn", { response });
    expect(reg.status).toBe(201);
    expect(reg.body.method.name).toBe("Security key");
  });

  it("lets an enrollment session (after an admin reset) register a key and become authenticated", async () => {
    const { user } = await userWithKey();
    const reset = await guard(user.id).adminReset(
      { user: { id: user.id, email: user.email, name: user.name }, ip: null, userAgent: null, now: Date.now() },
      { id: "admin-test", name: "Admin", stage: "authenticated" },
    );
    if (!reset.ok) throw new Error("reset refused");
    const { recoveryCode } = reset;
    const client = new Client();
    const login = await client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
    expect(login.body.status).toBe("recovery_code_required");
    const v = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(v.body).toEqual({ status: "enrollment_required" });
    expect((await client.json("GET", "/api/security")).status).toBe(403);

    const fresh = await SoftAuthenticator.create();
    const reg = await registerKey(client, fresh, { skipReauth: true });
    expect(reg.status).toBe(201);
    expect(reg.body.backupCodes).toHaveLength(10);
    const sec = await client.json("GET", "/api/security");
    expect(sec.status).toBe(200);
    expect(sec.body.methods.map((m: { type: string }) => m.type)).toEqual(["webauthn"]);
    // And the new key logs in.
    const c2 = await secondStepClient(user.email);
    expect((await verifyWithKey(c2, fresh)).body).toEqual({ status: "authenticated" });
  });
});

describe("logging in with a security key", () => {
  it("answers the password step with webauthn first and the key in the request options", async () => {
    const { user, auth } = await userWithKey();
    const client = new Client();
    const login = await client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
    expect(login.body).toEqual({ status: "second_factor_required", methods: ["webauthn", "backup_code"], preferred: "webauthn" });
    const options = await loginOptions(client);
    expect(options.rpId).toBe("localhost");
    expect(options.userVerification).toBe("preferred");
    expect(options.timeout).toBe(300_000);
    expect(options.allowCredentials).toEqual([{ id: auth.id, type: "public-key", transports: ["usb"] }]);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("logs in with the key and records its last use", async () => {
    const { user, auth, methodId } = await userWithKey();
    const client = await secondStepClient(user.email);
    const v = await verifyWithKey(client, auth);
    expect(v.status).toBe(200);
    expect(v.body).toEqual({ status: "authenticated" });
    const sec = await client.json("GET", "/api/security");
    expect(sec.status).toBe(200);
    const key = sec.body.methods.find((m: { id: string }) => m.id === methodId);
    expect(key.lastUsedAt).not.toBeNull();
    // The guard, which claimed the assertion, is the only home of the date: the second step writes no method row in D1.
    const d1 = await env.DB.prepare("SELECT last_used_at FROM methods WHERE id = ?").bind(methodId).first<{ last_used_at: number | null }>();
    expect(d1).not.toBeNull();
    expect(d1?.last_used_at).toBeNull();
  });

  for (const [alg, label] of [
    [-7, "ES256"],
    [-8, "EdDSA (Ed25519)"],
    [-257, "RS256"],
  ] as const) {
    it(`registers and logs in with an ${label} key`, async () => {
      const user = await newUser();
      const auth = await SoftAuthenticator.create({ alg });
      expect((await registerKey(user.client, auth)).status).toBe(201);
      const client = await secondStepClient(user.email);
      expect((await verifyWithKey(client, auth)).body).toEqual({ status: "authenticated" });
    });
  }

  it("accepts a key whose counter is always zero (many passkeys) again and again", async () => {
    const { user, auth } = await userWithKey({ counterStep: 0 });
    for (let i = 0; i < 2; i++) {
      const client = await secondStepClient(user.email);
      expect((await verifyWithKey(client, auth)).status).toBe(200);
    }
  });

  it("accepts an assertion without user verification (preferred, not required) but with user presence", async () => {
    const { user, auth } = await userWithKey();
    const client = await secondStepClient(user.email);
    const v = await verifyWithKey(client, auth, { flags: 0x01 });
    expect(v.status).toBe(200);
  });

  it("has no request options for a user without keys", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const client = await secondStepClient(user.email);
    const res = await client.post("/api/auth/webauthn/options");
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("method_not_enrolled");
  });

  it("gives request options only to a session at the second step", async () => {
    const user = await newUser();
    const res = await user.client.post("/api/auth/webauthn/options");
    expect(res.status).toBe(400); // an authenticated session has no second step to take
    expect((await new Client().post("/api/auth/webauthn/options")).status).toBe(401);
  });
});

describe("managing keys", () => {
  it("renames a key (sudo)", async () => {
    const { user, methodId } = await userWithKey();
    const res = await user.client.json("PATCH", `/api/security/methods/${methodId}`, { name: "Work key" });
    expect(res.status).toBe(200);
    expect(res.body.method).toMatchObject({ id: methodId, type: "webauthn", name: "Work key" });
    const sec = await user.client.json("GET", "/api/security");
    expect(sec.body.methods[0].name).toBe("Work key");
  });

  it("removes a key when another method remains; the last method cannot go", async () => {
    const { user, auth, methodId } = await userWithKey();
    const last = await user.client.delete(`/api/security/methods/${methodId}`);
    expect(last.status).toBe(409);
    expect((await problemOf(last)).code).toBe("last_method");

    const spare = await SoftAuthenticator.create();
    const reg = await registerKey(user.client, spare);
    expect(reg.status).toBe(201);
    const del = await user.client.delete(`/api/security/methods/${methodId}`);
    expect(del.status).toBe(204);
    const sec = await user.client.json("GET", "/api/security");
    expect(sec.body.methods.map((m: { id: string }) => m.id)).toEqual([reg.body.method.id]);

    // The removed key no longer logs in; the remaining one does.
    const client = await secondStepClient(user.email);
    const options = await loginOptions(client);
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).toEqual([spare.id]);
    await expect(auth.assert(options)).rejects.toThrow();
    const forced = await client.json("POST", "/api/auth/verify", { method: "webauthn", response: await auth.assert({ ...options, allowCredentials: [] }) });
    expect(forced.status).toBe(401);
    expect((await verifyWithKey(client, spare)).status).toBe(200);

    // Its credential id is free again in D1.
    const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM methods WHERE credential_id = ?").bind(auth.id).first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it("makes keys the preferred method next to an authenticator app", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const before = await user.client.json("PUT", "/api/security/preferred", { method: "webauthn" });
    expect(before.status).toBe(409);
    expect(before.body.code).toBe("method_not_enrolled");

    const auth = await SoftAuthenticator.create();
    const reg = await registerKey(user.client, auth);
    expect(reg.status).toBe(201);
    expect(reg.body.backupCodes).toBeUndefined();
    const pref = await user.client.json("PUT", "/api/security/preferred", { method: "webauthn" });
    expect(pref.body).toEqual({ preferred: "webauthn" });

    const client = new Client();
    const login = await client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
    expect(login.body).toEqual({ status: "second_factor_required", methods: ["webauthn", "totp", "backup_code"], preferred: "webauthn" });
    expect((await verifyWithKey(client, auth)).status).toBe(200);
  });
});
