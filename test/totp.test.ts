import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { codeOfStep, STEP_MS, totpCode, wrongTOTP } from "./support/codes";
import { addAuthenticatorApp, enableTOTP, logIn, newUser, PASSWORD, reauth, verify } from "./support/fixtures";
import { callerAt, guard, guardCounters, guardRows, updateSession } from "./support/stores";

const MINUTE = 60_000;

async function startEnrollment(client: Client, name = "Phone") {
  const res = await client.json("POST", "/api/security/totp", { name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; secret: string; uri: string; qrSvg: string };
}

describe("enrolling an authenticator app", () => {
  it("answers a base32 secret of at least 160 bits, an otpauth URI with SHA1/6/30, and that URI as an SVG QR code", async () => {
    const u = await newUser();
    await reauth(u.client);
    const e = await startEnrollment(u.client);
    expect(e.id).toEqual(expect.any(String));
    expect(e.secret).toMatch(/^[A-Z2-7]+$/);
    expect(OTPAuth.Secret.fromBase32(e.secret).bytes.length).toBeGreaterThanOrEqual(20);

    // Label `Issuer:account`, then secret and issuer parameters.
    const issuer = encodeURIComponent(env.ISSUER);
    expect(e.uri.startsWith(`otpauth://totp/${issuer}:${encodeURIComponent(u.email)}?`)).toBe(true);
    const params = new URLSearchParams(e.uri.slice(e.uri.indexOf("?") + 1));
    expect(params.get("secret")).toBe(e.secret);
    expect(params.get("issuer")).toBe(env.ISSUER);
    expect(params.get("algorithm") ?? "SHA1").toBe("SHA1");
    expect(params.get("digits") ?? "6").toBe("6");
    expect(params.get("period") ?? "30").toBe("30");
    // What an authenticator app would read from it (otpauth's own parser).
    const app = OTPAuth.URI.parse(e.uri) as OTPAuth.TOTP;
    expect(app).toBeInstanceOf(OTPAuth.TOTP);
    expect([app.issuer, app.label, app.algorithm, app.digits, app.period, app.secret.base32]).toEqual([env.ISSUER, u.email, "SHA1", 6, 30, e.secret]);

    expect(e.qrSvg.trimStart()).toMatch(/^<svg[\s>]/);
    expect(e.qrSvg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(e.qrSvg).toMatch(/<(path|rect)\b/);

    const other = await startEnrollment(u.client);
    expect(other.secret).not.toBe(e.secret);
    expect(other.id).not.toBe(e.id);
  });

  it("needs the password re-entered within 10 minutes to start and to confirm", async () => {
    const u = await newUser();
    const start = await u.client.post("/api/security/totp", { name: "Phone" });
    expect(start.status).toBe(403);
    expect((await problemOf(start)).code).toBe("reauth_required");
    const confirm = await u.client.post("/api/security/totp/whatever/confirm", { code: "123456" });
    expect(confirm.status).toBe(403);
    expect((await problemOf(confirm)).code).toBe("reauth_required");

    await reauth(u.client);
    const e = await startEnrollment(u.client);
    // The re-entered password is 11 minutes old now.
    await updateSession(u.client, { reauth_at: Date.now() - 11 * MINUTE });
    const late = await u.client.post(`/api/security/totp/${e.id}/confirm`, { code: totpCode(e.secret) });
    expect(late.status).toBe(403);
    expect((await problemOf(late)).code).toBe("reauth_required");
    expect((await u.client.post("/api/security/totp", {})).status).toBe(403);
  });

  it("refuses a wrong confirmation code with 400 invalid_code, and a malformed one with 400 invalid_request", async () => {
    const u = await newUser();
    await reauth(u.client);
    const e = await startEnrollment(u.client);
    const wrong = await u.client.post(`/api/security/totp/${e.id}/confirm`, { code: wrongTOTP(e.secret) });
    expect(wrong.status).toBe(400);
    expect((await problemOf(wrong)).code).toBe("invalid_code");
    const malformed = await u.client.post(`/api/security/totp/${e.id}/confirm`, { code: "12345" });
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).code).toBe("invalid_request");
    // Not confirmed: 2FA is still off and the password alone logs in.
    expect((await u.client.json("GET", "/api/security")).body).toMatchObject({ enabled: false, methods: [] });
    expect((await logIn(u.email)).body.status).toBe("authenticated");
    // The enrollment itself is still good.
    const ok = await u.client.json("POST", `/api/security/totp/${e.id}/confirm`, { code: totpCode(e.secret) });
    expect(ok.status).toBe(200);
    expect(ok.body.method).toMatchObject({ id: e.id, type: "totp", name: "Phone" });
  });

  it("answers 404 not_found for an unknown enrollment and for one older than 10 minutes", async () => {
    const u = await newUser();
    // 2FA already on: the guard calls below have no session, and a first method would end every session.
    await enableTOTP(u.client);
    const unknown = await u.client.post("/api/security/totp/no-such-id/confirm", { code: "123456" });
    expect(unknown.status).toBe(404);
    expect((await problemOf(unknown)).code).toBe("not_found");

    // Through the guard with a later clock: 9½ minutes is fine, 10 minutes is too late.
    const e1 = await startEnrollment(u.client);
    const t0 = Date.now();
    const g = guard(u.id);
    expect(await g.confirmTOTP(callerAt(u, t0 + 10 * MINUTE, "authenticated"), e1.id, totpCode(e1.secret, t0 + 10 * MINUTE))).toEqual({
      ok: false,
      reason: "not_found",
    });
    const e2 = await startEnrollment(u.client);
    const late = Date.now() + 9.5 * MINUTE;
    expect(await g.confirmTOTP(callerAt(u, late, "authenticated"), e2.id, totpCode(e2.secret, late))).toMatchObject({ ok: true });

    // Over HTTP, with the enrollment's deadline moved into the past.
    const e3 = await startEnrollment(u.client, "Tablet");
    await runInDurableObject(g, (_i, state) => {
      state.storage.sql.exec("UPDATE totp SET pending_expires_at = ? WHERE id = ?", Date.now() - 1, e3.id);
    });
    const expired = await u.client.post(`/api/security/totp/${e3.id}/confirm`, { code: totpCode(e3.secret) });
    expect(expired.status).toBe(404);
    expect((await problemOf(expired)).code).toBe("not_found");
    // The alarm (one per guard, set to the earliest deadline) clears it from storage; the others stay.
    expect(await runDurableObjectAlarm(g)).toBe(true);
    const left = (await guardRows<{ id: string }>(u.id, "SELECT id FROM totp WHERE confirmed_at IS NULL")).map((r) => r.id);
    expect(left).toContain(e1.id);
    expect(left).not.toContain(e3.id);
  });

  it("keeps an unconfirmed enrollment unusable: not listed, and its codes do not log in", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    await reauth(u.client);
    const pending = await startEnrollment(u.client, "Not yet");
    const sec = await u.client.json("GET", "/api/security");
    expect(sec.body.methods.map((m: { name: string }) => m.name)).toEqual(["Phone"]);
    const { client } = await logIn(u.email);
    expect((await verify(client, "totp", totpCode(pending.secret))).status).toBe(401);
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);
  });
});

describe("logging in with an authenticator app", () => {
  it("accepts a code computed by otpauth at the real time", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const { client, body } = await logIn(u.email);
    expect(body.status).toBe("second_factor_required");
    // A recovery code is not a method of this stage: 400, before any code is checked.
    const wrongStage = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: "abcd-efgh-jkmn-pqrs" });
    expect(wrongStage.status).toBe(400);
    expect(wrongStage.body.code).toBe("invalid_request");
    // Surrounding spaces are fine.
    const v = await verify(client, "totp", ` ${totpCode(secret)} `);
    expect(v.status).toBe(200);
    expect(v.body).toEqual({ status: "authenticated" });
    const me = await client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.stage).toBe("authenticated");
  });

  it("accepts the current and the previous step, and refuses every other step (clock moved through the guard)", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const g = guard(u.id);
    // Instants an hour apart, 10 s into their steps, all after the confirming step.
    const at = (hours: number) => (Math.floor(Date.now() / STEP_MS) + hours * 120) * STEP_MS + 10_000;

    const t1 = at(1);
    const s1 = Math.floor(t1 / STEP_MS);
    expect(await g.verifyTOTP(callerAt(u, t1), codeOfStep(secret, s1))).toMatchObject({ ok: true, methodType: "totp" });

    const t2 = at(2);
    const s2 = Math.floor(t2 / STEP_MS);
    expect(await g.verifyTOTP(callerAt(u, t2), codeOfStep(secret, s2 - 1))).toMatchObject({ ok: true });

    const t3 = at(3);
    const s3 = Math.floor(t3 / STEP_MS);
    for (const d of [-10, -3, -2, 1, 2, 3, 10]) {
      expect(await g.verifyTOTP(callerAt(u, t3), codeOfStep(secret, s3 + d)), `step ${d}`).toEqual({ ok: false, reason: "invalid" });
    }
    // The refusals above were about the steps: the current one still works afterwards.
    expect(await g.verifyTOTP(callerAt(u, t3), codeOfStep(secret, s3))).toMatchObject({ ok: true });
  });

  it("refuses a code used once already, and any older step", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const code = totpCode(secret);
    const first = await logIn(u.email);
    expect((await verify(first.client, "totp", code)).status).toBe(200);
    const second = await logIn(u.email);
    const replay = await verify(second.client, "totp", code);
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("invalid_code");

    // Through the guard: after step s is used, s and s-1 are refused, s+1 (a minute later) works.
    const g = guard(u.id);
    const t = (Math.floor(Date.now() / STEP_MS) + 240) * STEP_MS + 5_000;
    const s = Math.floor(t / STEP_MS);
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(secret, s))).toMatchObject({ ok: true });
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(secret, s))).toEqual({ ok: false, reason: "invalid" });
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(secret, s - 1))).toEqual({ ok: false, reason: "invalid" });
    expect(await g.verifyTOTP(callerAt(u, t + STEP_MS), codeOfStep(secret, s + 1))).toMatchObject({ ok: true });
  });

  it("refuses the code that confirmed the enrollment", async () => {
    const u = await newUser();
    await reauth(u.client);
    const e = await startEnrollment(u.client);
    const code = totpCode(e.secret);
    expect((await u.client.json("POST", `/api/security/totp/${e.id}/confirm`, { code })).status).toBe(200);
    const { client } = await logIn(u.email);
    const v = await verify(client, "totp", code);
    expect(v.status).toBe(401);
    expect(v.body.code).toBe("invalid_code");
  });
});

describe("several authenticator apps", () => {
  it("names each, lists them with created and last-used times, and either one logs in", async () => {
    const u = await newUser();
    const phone = await addAuthenticatorApp(u.client, { name: "Phone" });
    const tablet = await addAuthenticatorApp(u.client, { name: "Tablet" });
    expect(tablet.backupCodes).toBeNull();
    const before = await u.client.json("GET", "/api/security");
    expect(before.body.methods).toEqual([
      { id: phone.methodId, type: "totp", name: "Phone", createdAt: expect.any(String), lastUsedAt: null },
      { id: tablet.methodId, type: "totp", name: "Tablet", createdAt: expect.any(String), lastUsedAt: null },
    ]);
    for (const m of before.body.methods) expect(new Date(m.createdAt).toISOString()).toBe(m.createdAt);

    const loginAt = Date.now();
    const a = await logIn(u.email);
    expect((await verify(a.client, "totp", totpCode(tablet.secret))).status).toBe(200);
    const after = await u.client.json("GET", "/api/security");
    const [p, t] = after.body.methods;
    expect(p.lastUsedAt).toBeNull();
    expect(Date.parse(t.lastUsedAt)).toBeGreaterThanOrEqual(loginAt - 1000);

    const b = await logIn(u.email);
    expect((await verify(b.client, "totp", totpCode(phone.secret))).status).toBe(200);
  });

  it("opens the apps one at a time: each takes only its own code, a step taken on one app stays free on the others, and a wrong code counts once", async () => {
    const u = await newUser();
    const a = await addAuthenticatorApp(u.client, { name: "A" });
    const b = await addAuthenticatorApp(u.client, { name: "B" });
    const c = await addAuthenticatorApp(u.client, { name: "C" });
    const g = guard(u.id);
    const t = (Math.floor(Date.now() / STEP_MS) + 480) * STEP_MS + 5_000;
    const s = Math.floor(t / STEP_MS);
    // C was enrolled last and never used, so it is opened last: the apps before it must not end the search.
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(c.secret, s))).toMatchObject({ ok: true, methodId: c.methodId });
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(c.secret, s))).toEqual({ ok: false, reason: "invalid" });
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(a.secret, s))).toMatchObject({ ok: true, methodId: a.methodId });
    // B's code of the step before still works (its own last step is older); then B's step is taken too.
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(b.secret, s - 1))).toMatchObject({ ok: true, methodId: b.methodId });
    expect(await g.verifyTOTP(callerAt(u, t), codeOfStep(b.secret, s - 1))).toEqual({ ok: false, reason: "invalid" });
    // A success clears the count: the last refusal alone is counted, once, whatever the number of apps opened for it.
    expect((await guardCounters(u.id)).failures).toBe(1);
    // A wrong code opens all three and counts one more; a right one then clears the count.
    expect(await g.verifyTOTP(callerAt(u, t + STEP_MS), wrongTOTP([a.secret, b.secret, c.secret], t + STEP_MS))).toEqual({ ok: false, reason: "invalid" });
    expect((await guardCounters(u.id)).failures).toBe(2);
    expect(await g.verifyTOTP(callerAt(u, t + STEP_MS), codeOfStep(b.secret, s + 1))).toMatchObject({ ok: true, methodId: b.methodId });
    expect((await guardCounters(u.id)).failures).toBe(0);
  });

  it("renames a method (sudo)", async () => {
    const u = await newUser();
    const { methodId } = await enableTOTP(u.client);
    await updateSession(u.client, { reauth_at: Date.now() - 11 * MINUTE });
    const refused = await u.client.patch(`/api/security/methods/${methodId}`, { name: "Work phone" });
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).code).toBe("reauth_required");
    await reauth(u.client);
    const res = await u.client.json("PATCH", `/api/security/methods/${methodId}`, { name: "  Work phone " });
    expect(res.status).toBe(200);
    expect(res.body.method).toMatchObject({ id: methodId, type: "totp", name: "Work phone" });
    expect((await u.client.json("GET", "/api/security")).body.methods[0].name).toBe("Work phone");
    expect((await u.client.patch("/api/security/methods/nope", { name: "x" })).status).toBe(404);
    expect((await u.client.patch(`/api/security/methods/${methodId}`, { name: "   " })).status).toBe(400);
  });

  it("refuses to remove the last method with 409 last_method", async () => {
    const u = await newUser();
    const { methodId, secret } = await enableTOTP(u.client);
    await reauth(u.client);
    const res = await u.client.delete(`/api/security/methods/${methodId}`);
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("last_method");
    const { client } = await logIn(u.email);
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);
  });

  it("removes a method (sudo): its codes stop working and the user's other sessions end", async () => {
    const u = await newUser();
    const phone = await addAuthenticatorApp(u.client, { name: "Phone" });
    const tablet = await addAuthenticatorApp(u.client, { name: "Tablet" });
    const full = await logIn(u.email);
    expect((await verify(full.client, "totp", totpCode(phone.secret))).status).toBe(200);
    const half = await logIn(u.email);

    await updateSession(u.client, { reauth_at: Date.now() - 11 * MINUTE });
    expect((await u.client.delete(`/api/security/methods/${tablet.methodId}`)).status).toBe(403);
    await reauth(u.client);
    expect((await u.client.delete(`/api/security/methods/${tablet.methodId}`)).status).toBe(204);

    expect((await u.client.json("GET", "/api/security")).body.methods.map((m: { id: string }) => m.id)).toEqual([phone.methodId]);
    expect((await full.client.get("/api/me")).status).toBe(401);
    expect((await half.client.post("/api/auth/verify", { method: "totp", code: totpCode(phone.secret) })).status).toBe(401);
    // The removed app's codes no longer log in; the remaining one's do.
    const next = await logIn(u.email);
    expect((await verify(next.client, "totp", totpCode(tablet.secret))).status).toBe(401);
    // (The phone's current step was spent above: check it a minute ahead, through the guard.)
    const later = Date.now() + 2 * STEP_MS;
    expect(await guard(u.id).verifyTOTP(callerAt(u, later), totpCode(tablet.secret, later))).toEqual({ ok: false, reason: "invalid" });
    expect(await guard(u.id).verifyTOTP(callerAt(u, later), totpCode(phone.secret, later))).toMatchObject({ ok: true, methodId: phone.methodId });
    expect((await u.client.delete(`/api/security/methods/${tablet.methodId}`)).status).toBe(404);
  });
});

describe("the secret", () => {
  it("is never returned after confirmation", async () => {
    const u = await newUser();
    await reauth(u.client);
    const e = await startEnrollment(u.client);
    const confirm = await u.client.request("POST", `/api/security/totp/${e.id}/confirm`, { code: totpCode(e.secret) });
    const bodies = [await confirm.text()];
    for (const path of ["/api/security", "/api/me"]) bodies.push(await (await u.client.get(path)).text());
    bodies.push(await (await u.client.post(`/api/security/totp/${e.id}/confirm`, { code: totpCode(e.secret) })).text());
    bodies.push(await (await u.client.patch(`/api/security/methods/${e.id}`, { name: "Renamed" })).text());
    const raw = OTPAuth.Secret.fromBase32(e.secret).hex;
    for (const body of bodies) {
      expect(body.toUpperCase()).not.toContain(e.secret);
      expect(body.toLowerCase()).not.toContain(raw.toLowerCase());
    }
  });

  it("is encrypted at rest: the guard's table holds neither its bytes nor its base32", async () => {
    const u = await newUser();
    await reauth(u.client);
    const e = await startEnrollment(u.client);
    const check = async () => {
      const [row] = await guardRows<{ key_id: string; secret: ArrayBuffer }>(u.id, "SELECT key_id, secret FROM totp WHERE id = ?", e.id);
      if (!row) throw new Error("no totp row");
      const stored = new Uint8Array(row.secret);
      const plain = OTPAuth.Secret.fromBase32(e.secret).bytes;
      // The first listed key (vitest.config.ts: test2) seals; IV 12 + ciphertext 20 + tag 16.
      expect(row.key_id).toBe(env.ENCRYPTION_KEYS.split(":")[0]);
      expect(stored.length).toBe(12 + plain.length + 16);
      const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      // No run of 8 secret bytes appears anywhere in what is stored.
      for (let i = 0; i + 8 <= plain.length; i++) expect(hex(stored)).not.toContain(hex(plain.slice(i, i + 8)));
      expect(new TextDecoder("latin1").decode(stored)).not.toContain(e.secret.slice(0, 8));
    };
    await check();
    await u.client.post(`/api/security/totp/${e.id}/confirm`, { code: totpCode(e.secret) });
    await check();
  });

  it("still decrypts when sealed with the second listed key (rotation)", async () => {
    const u = await newUser();
    const { secret, methodId } = await enableTOTP(u.client);
    // Seal the secret ourselves, with WebCrypto and the second key of ENCRYPTION_KEYS,
    // in the documented format: 12-byte IV, then AES-GCM ciphertext and tag; AAD totp:user:method.
    const [, second] = env.ENCRYPTION_KEYS.split(",");
    const [keyId, b64] = (second as string).split(":") as [string, string];
    const key = await crypto.subtle.importKey(
      "raw",
      Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)),
      "AES-GCM",
      false,
      ["encrypt"],
    );
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(`totp:${u.id}:${methodId}`) },
        key,
        OTPAuth.Secret.fromBase32(secret).bytes,
      ),
    );
    const box = new Uint8Array([...iv, ...ct]);
    await runInDurableObject(guard(u.id), (_i, state) => {
      state.storage.sql.exec("UPDATE totp SET key_id = ?, secret = ? WHERE id = ?", keyId, box, methodId);
    });
    expect(keyId).not.toBe(env.ENCRYPTION_KEYS.split(":")[0]);
    const { client } = await logIn(u.email);
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);

    // Once used, it is sealed again with the first (current) key, so the old key can be retired.
    const [row] = await guardRows<{ key_id: string; secret: ArrayBuffer }>(u.id, "SELECT key_id, secret FROM totp WHERE id = ?", methodId);
    expect(row?.key_id).toBe(env.ENCRYPTION_KEYS.split(":")[0]);
    expect(new Uint8Array(row?.secret as ArrayBuffer)).not.toEqual(box);
    const later = Date.now() + 2 * STEP_MS;
    expect(await guard(u.id).verifyTOTP(callerAt(u, later), totpCode(secret, later))).toMatchObject({ ok: true, methodId });
  });
});

it("the password alone never completes a login once 2FA is on", async () => {
  const u = await newUser();
  await enableTOTP(u.client);
  const { client, body } = await logIn(u.email);
  expect(body.status).toBe("second_factor_required");
  expect((await client.get("/api/security")).status).toBe(403);
  expect((await new Client().json("POST", "/api/auth/login", { email: u.email, password: `${PASSWORD}x` })).status).toBe(401);
});
