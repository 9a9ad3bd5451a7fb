import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { Client, problemOf } from "./support/client";
import { previousStepCode, spellingsOfCode, totpCode } from "./support/codes";
import { communityWithMember, DAY_MS, enableTOTP, newUser, PASSWORD, recoveryClient, resetMember, resetPath, resetWorld } from "./support/fixtures";
import { fillPath, key, openAPIDocument, operationsOf } from "./support/openapi";
import { everythingStored, guard, moveRecoveryExpiry, recoveryRow } from "./support/stores";

/**
 * Community admins reset a member's 2FA (docs/api.md "Community
 * administration", the `recovery` and `enrollment` stages, Lockout).
 */

/** Crockford base32 without i, l, o, u: 16 characters of 5 bits = 80 random bits, in groups of four. */
const RECOVERY_CODE = /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$/;

/** A well-formed recovery code that was never issued (the last character varies). */
function wrongCode(i = 0): string {
  return `zzzz-zzzz-zzzz-zzz${"0123456789abcdef"[i % 16]}`;
}

async function members(client: Client, cid: string) {
  return client.json("GET", `/api/communities/${cid}/members`);
}

describe("the reset and recovery journey", () => {
  it("an admin resets a member, who logs in with the recovery code, sets up a new app and ends fully logged in", async () => {
    const world = await resetWorld();
    const { admin, member } = world;
    const before = Date.now();
    const { recoveryCode, expiresAt } = await resetMember(world);
    expect(recoveryCode).toMatch(RECOVERY_CODE);
    const expiry = Date.parse(expiresAt);
    expect(expiry).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(expiry).toBeLessThanOrEqual(Date.now() + DAY_MS);

    // The members list shows the reset: 2FA off, no methods, a code outstanding until expiresAt.
    const listed = (await members(admin.client, admin.communityId)).body.members.find((m: { id: string }) => m.id === member.id);
    expect(listed).toEqual({
      id: member.id,
      email: member.email,
      name: member.name,
      role: "member",
      twoFactor: { enabled: false, methods: [] },
      recoveryCodeExpiresAt: expiresAt,
      policy: "ok",
      requiredBy: null,
    });

    // Password login now asks for the recovery code only.
    const client = await recoveryClient(member);
    // Any case, with or without the dash, surrounding spaces.
    const typed = `  ${recoveryCode.replace(/-/g, "").toUpperCase()} `;
    const verify = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: typed });
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({ status: "enrollment_required" });

    const me = await client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.stage).toBe("enrollment");
    expect(me.body.twoFactor).toEqual({ enabled: false, preferred: null });

    // No password prompt: the enrollment session counts as freshly re-entered.
    const start = await client.json("POST", "/api/security/totp", { name: "New phone" });
    expect(start.status).toBe(201);
    const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
    expect(confirm.status).toBe(200);
    expect(confirm.body.backupCodes).toHaveLength(10);
    expect(new Set(confirm.body.backupCodes).size).toBe(10);

    // The same cookie is now a full session.
    const security = await client.json("GET", "/api/security");
    expect(security.status).toBe(200);
    expect(security.body.enabled).toBe(true);
    expect(security.body.methods.map((m: { name: string }) => m.name)).toEqual(["New phone"]);
    expect((await client.json("GET", "/api/me")).body.stage).toBe("authenticated");
    const types = security.body.events.map((e: { type: string }) => e.type);
    expect(types).toContain("recovery_code_issued");
    expect(types).toContain("recovery_code_used");
    const issued = security.body.events.find((e: { type: string }) => e.type === "recovery_code_issued");
    expect(issued.actor).toEqual({ id: admin.id, name: admin.name });

    // Login asks for the new app again; the old app's codes are gone for good.
    const next = new Client();
    const login = await next.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
    expect(login.body).toEqual({ status: "second_factor_required", methods: ["totp", "backup_code"], preferred: "totp" });
    const old = await next.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(world.totp.secret) });
    expect(old.status).toBe(401);
    const oldBackup = await next.json("POST", "/api/auth/verify", { method: "backup_code", code: world.totp.backupCodes[0] });
    expect(oldBackup.status).toBe(401);
    const fresh = await next.json("POST", "/api/auth/verify", { method: "backup_code", code: confirm.body.backupCodes[0] });
    expect(fresh.body).toEqual({ status: "authenticated" });

    // The list follows: 2FA on with an app, no code outstanding.
    const after = (await members(admin.client, admin.communityId)).body.members.find((m: { id: string }) => m.id === member.id);
    expect(after.twoFactor).toEqual({ enabled: true, methods: ["totp"] });
    expect(after.recoveryCodeExpiresAt).toBeNull();

    // The admin sees the reset's events for their member, newest first, with who issued it.
    const events = await admin.client.json("GET", `/api/communities/${admin.communityId}/events`);
    expect(events.status).toBe(200);
    const mine = events.body.events.filter((e: { member: { id: string } }) => e.member.id === member.id);
    expect(mine.map((e: { type: string }) => e.type)).toEqual(["recovery_code_used", "recovery_code_issued"]);
    expect(mine[1]).toMatchObject({ actor: { id: admin.id, name: admin.name }, expiresAt });
    expect(JSON.stringify(events.body)).not.toContain(client.ip);
  });

  it("the reset ends every session of the member, half-logged-in ones included, and keeps the admin's", async () => {
    const world = await resetWorld();
    const { member } = world;
    const full = member.client;
    const half = new Client();
    const login = await half.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
    expect(login.body.status).toBe("second_factor_required");
    const recovery = await resetMember(world);
    const recoveryHalf = await recoveryClient(member);
    // A second reset ends the recovery session of the first too.
    await resetMember(world);

    expect(await problemOf(await full.get("/api/me"))).toMatchObject({ status: 401, code: "unauthenticated" });
    const late = await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(world.totp.secret) });
    expect(late.status).toBe(401);
    expect(late.body.code).toBe("unauthenticated");
    const stale = await recoveryHalf.json("POST", "/api/auth/verify", { method: "recovery_code", code: recovery.recoveryCode });
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe("unauthenticated");
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(member.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect((await world.admin.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("the recovery code is at least 64 random bits and stored only as a hash", async () => {
    const world = await resetWorld();
    const codes = new Set<string>();
    for (let i = 0; i < 3; i++) codes.add((await resetMember(world)).recoveryCode);
    expect(codes.size).toBe(3);
    const last = [...codes].at(-1) as string;
    expect(last.replace(/-/g, "").length * 5).toBeGreaterThanOrEqual(64);
    const row = await recoveryRow(world.member.id);
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.issued_by).toBe(world.admin.id);
    const stored = (await everythingStored(world.member.id)).toLowerCase();
    for (const form of spellingsOfCode(last)) expect(stored).not.toContain(form.toLowerCase());
  });
});

describe("who may reset", () => {
  it("refuses a wrong admin password with 401 and changes nothing", async () => {
    const world = await resetWorld();
    const res = await world.admin.client.json("POST", resetPath(world), { password: `${PASSWORD}!` });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("invalid_credentials");
    const login = await new Client().json("POST", "/api/auth/login", { email: world.member.email, password: PASSWORD });
    expect(login.body.status).toBe("second_factor_required");
    expect(await recoveryRow(world.member.id)).toBeNull();
  });

  it("counts wrong admin passwords in the admin's guard: the 11th attempt waits, even with the right password", async () => {
    const world = await resetWorld();
    for (let i = 0; i < 10; i++) {
      const res = await world.admin.client.json("POST", resetPath(world), { password: `wrong password ${i}` });
      expect(res.status).toBe(401);
    }
    const res = await world.admin.client.request("POST", resetPath(world), { password: PASSWORD });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The same bucket slows the admin's other password prompts: it is the admin's, not the member's.
    expect((await world.admin.client.request("POST", "/api/security/reauth", { password: PASSWORD })).status).toBe(429);
    const other = await world.member.client.request("POST", "/api/security/reauth", { password: PASSWORD });
    expect(other.status).toBe(204);
  });

  it("refuses a member who is not an admin with 403", async () => {
    const world = await resetWorld();
    const peer = await newUser({ name: "Pat Peer" });
    const invite = await world.admin.client.json("POST", `/api/communities/${world.admin.communityId}/invitations`, { email: peer.email, role: "member" });
    await peer.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
    const res = await peer.client.json("POST", resetPath(world), { password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
    expect((await members(peer.client, world.admin.communityId)).status).toBe(403);
  });

  it("answers 404 alike for outsiders, other communities, non-members and missing users", async () => {
    const world = await resetWorld();
    const other = (await newUser({ community: "Elsewhere", name: "Olga Other" })) as Awaited<ReturnType<typeof newUser>> & { communityId: string };
    await other.client.post("/api/security/reauth", { password: PASSWORD });
    const invitedOnly = await newUser({ name: "Ivy Invited" });
    await world.admin.client.json("POST", `/api/communities/${world.admin.communityId}/invitations`, { email: invitedOnly.email, role: "member" });

    // Each refusal is compared with what the same caller gets for a user id that does not exist.
    const cases: [string, Client, string, string][] = [
      ["an admin of another community, at this community", other.client, world.admin.communityId, world.member.id],
      ["an admin of another community, at their own, naming this community's member", other.client, other.communityId, world.member.id],
      ["this community's admin, naming a user who is not a member", world.admin.client, world.admin.communityId, other.id],
      ["this community's admin, naming a user invited but not yet joined", world.admin.client, world.admin.communityId, invitedOnly.id],
    ];
    for (const [label, client, cid, uid] of cases) {
      const res = await client.json("POST", resetPath(world, uid, cid), { password: PASSWORD });
      const missing = await client.json("POST", resetPath(world, "no-such-user", cid), { password: PASSWORD });
      expect(res.status, label).toBe(404);
      expect(res.body.code, label).toBe("not_found");
      expect(res.body, label).toEqual(missing.body);
    }
    expect((await members(other.client, world.admin.communityId)).status).toBe(404);
    const login = await new Client().json("POST", "/api/auth/login", { email: world.member.email, password: PASSWORD });
    expect(login.body.status).toBe("second_factor_required");
  });

  it("refuses an admin's own account with 403", async () => {
    const world = await communityWithMember();
    const res = await world.admin.client.json("POST", resetPath(world, world.admin.id), { password: PASSWORD });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("forbidden");
  });

  it("lets an admin reset another admin of the same community", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    const second = await newUser({ name: "Sam Second" });
    const inv = await world.admin.client.json("POST", `/api/communities/${world.admin.communityId}/invitations`, { email: second.email, role: "admin" });
    await second.client.json("POST", `/api/invitations/${inv.body.invitation.id}/accept`);
    const res = await world.admin.client.json("POST", resetPath(world, second.id), { password: PASSWORD });
    expect(res.status).toBe(200);
  });
});

describe("the recovery code", () => {
  it("is single use: 20 recovery sessions racing with the same code, exactly one wins", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const clients: Client[] = [];
    for (let i = 0; i < 20; i++) clients.push(await recoveryClient(world.member));
    const answers = await Promise.all(clients.map((c) => c.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others were refused (401) or, once ten refusals locked the account, told to wait (429).
    expect(statuses.every((s) => s === 200 || s === 401 || s === 429)).toBe(true);
    const winner = clients[statuses.indexOf(200)] as Client;
    expect((await winner.json("GET", "/api/me")).body.stage).toBe("enrollment");
    expect(await recoveryRow(world.member.id)).toBeNull();
  });

  it("is spent once accepted: leaving the enrollment session by logging out leaves only a new reset", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const first = await recoveryClient(world.member);
    expect((await first.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
    expect((await first.request("POST", "/api/auth/logout")).status).toBe(204);
    const again = await recoveryClient(world.member);
    const refused = await again.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_code");
    const second = await resetMember(world);
    const third = await recoveryClient(world.member);
    expect((await third.json("POST", "/api/auth/verify", { method: "recovery_code", code: second.recoveryCode })).status).toBe(200);
  });

  it("is replaced by a new reset: the unused older code is refused", async () => {
    const world = await resetWorld();
    const first = await resetMember(world);
    const second = await resetMember(world);
    expect(second.recoveryCode).not.toBe(first.recoveryCode);
    const client = await recoveryClient(world.member);
    const old = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: first.recoveryCode });
    expect(old.status).toBe(401);
    const ok = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: second.recoveryCode });
    expect(ok.body).toEqual({ status: "enrollment_required" });
  });

  it("expires after 24 hours through the guard's alarm, and login stays at recovery_code_required", async () => {
    const world = await resetWorld();
    const { recoveryCode, expiresAt } = await resetMember(world);
    // The guard armed its alarm for the code's expiry (nothing else is due).
    const alarmAt = () => runInDurableObject(guard(world.member.id), (_instance, state) => state.storage.getAlarm());
    expect(await alarmAt()).toBe(Date.parse(expiresAt));
    const past = Date.now() - 1000;
    await moveRecoveryExpiry(world.member.id, past);
    expect(await runDurableObjectAlarm(guard(world.member.id))).toBe(true);
    expect(await recoveryRow(world.member.id)).toBeNull();
    expect(await alarmAt()).toBeNull();
    const listed = (await members(world.admin.client, world.admin.communityId)).body.members.find((m: { id: string }) => m.id === world.member.id);
    expect(listed.recoveryCodeExpiresAt).toBeNull();
    const client = await recoveryClient(world.member);
    const res = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(res.status).toBe(401);
    await recoveryClient(world.member);
    const events = await world.admin.client.json("GET", `/api/communities/${world.admin.communityId}/events`);
    expect(events.body.events[0]).toMatchObject({ type: "recovery_code_expired", member: { id: world.member.id }, actor: { id: world.admin.id } });
  });

  it("survives an early alarm: a WebAuthn challenge's and an unconfirmed app's deadlines fire, the code still works", async () => {
    const world = await resetWorld();
    const { recoveryCode, expiresAt } = await resetMember(world);
    const stub = guard(world.member.id);
    const issued = await recoveryRow(world.member.id);
    const pending = () =>
      runInDurableObject(stub, async (_instance, state) => ({
        alarm: await state.storage.getAlarm(),
        challenges: state.storage.sql.exec("SELECT count(*) AS n FROM challenges").one().n,
        apps: state.storage.sql.exec("SELECT count(*) AS n FROM totp WHERE confirmed_at IS NULL").one().n,
      }));
    // The guard's clock is Date.now() in this isolate: frozen here, then moved to each deadline.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const now = Date.now();
      // As the member's enrollment session would call (the guard checks the stage too).
      const caller = {
        user: { id: world.member.id, email: world.member.email, name: world.member.name },
        ip: null,
        userAgent: null,
        now,
        stage: "enrollment" as const,
        sessionPublicId: "enrollment-session",
      };
      // Two deadlines well before the code's 24 hours, through the guard's own calls: a challenge
      // lives 5 minutes (docs/webauthn.md), an unconfirmed authenticator app 10 (docs/api.md).
      expect(await stub.webAuthnChallenge(caller, "registration")).toMatchObject({ ok: true });
      expect(await stub.startTOTP(caller, "Early")).toMatchObject({ ok: true });
      expect(await pending()).toEqual({ alarm: now + 5 * 60_000, challenges: 1, apps: 1 });

      vi.setSystemTime(now + 5 * 60_000);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await pending()).toEqual({ alarm: now + 10 * 60_000, challenges: 0, apps: 1 });
      expect(await recoveryRow(world.member.id)).toEqual(issued);

      vi.setSystemTime(now + 10 * 60_000);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await pending()).toEqual({ alarm: Date.parse(expiresAt), challenges: 0, apps: 0 });
      expect(await recoveryRow(world.member.id)).toEqual(issued);

      // Still outstanding for the admin, and still accepted.
      const listed = (await members(world.admin.client, world.admin.communityId)).body.members.find((m: { id: string }) => m.id === world.member.id);
      expect(listed.recoveryCodeExpiresAt).toBe(expiresAt);
      const client = await recoveryClient(world.member);
      expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).body).toEqual({ status: "enrollment_required" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("expires after 24 hours through the guard's own time check when the alarm has not run", async () => {
    const world = await resetWorld();
    const { recoveryCode, expiresAt } = await resetMember(world);
    const user = { id: world.member.id, email: world.member.email, name: world.member.name };
    const stub = guard(world.member.id);
    // At the expiry instant the guard refuses, whatever the alarm did; a moment before, it accepts.
    const at = Date.parse(expiresAt);
    expect(await stub.verifyRecoveryCode({ user, ip: null, userAgent: null, now: at, stage: "recovery" }, recoveryCode)).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(await recoveryRow(world.member.id)).not.toBeNull();

    // Through the API: the stored expiry has passed, the alarm has not run.
    await moveRecoveryExpiry(world.member.id, Date.now() - 1000);
    const client = await recoveryClient(world.member);
    const res = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("invalid_code");
    expect(await recoveryRow(world.member.id)).not.toBeNull();
    await recoveryClient(world.member);
    const listed = (await members(world.admin.client, world.admin.communityId)).body.members.find((m: { id: string }) => m.id === world.member.id);
    expect(listed.recoveryCodeExpiresAt).toBeNull();
  });

  it("accepts a code a moment before its 24 hours end", async () => {
    const world = await resetWorld();
    const { recoveryCode, expiresAt } = await resetMember(world);
    const user = { id: world.member.id, email: world.member.email, name: world.member.name };
    const result = await guard(world.member.id).verifyRecoveryCode(
      { user, ip: null, userAgent: null, now: Date.parse(expiresAt) - 1000, stage: "recovery" },
      recoveryCode,
    );
    expect(result).toEqual({ ok: true, methodId: null, methodType: "recovery_code" });
  });

  it("counts refusals in the same lockout as other codes; an admin reset clears the lock", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const client = await recoveryClient(world.member);
    for (let i = 0; i < 10; i++) {
      const res = await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: wrongCode(i) });
      expect(res.status).toBe(401);
    }
    const locked = await client.request("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThanOrEqual(14 * 60);
    const next = await resetMember(world);
    const fresh = await recoveryClient(world.member);
    expect((await fresh.json("POST", "/api/auth/verify", { method: "recovery_code", code: next.recoveryCode })).status).toBe(200);
  });

  it("is the only thing a recovery session accepts (other methods 400), and is refused at the second_factor stage", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const client = await recoveryClient(world.member);
    for (const body of [
      { method: "totp", code: totpCode(world.totp.secret) },
      { method: "backup_code", code: world.totp.backupCodes[0] },
      { method: "webauthn", response: {} },
    ]) {
      const res = await client.json("POST", "/api/auth/verify", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
    expect((await client.json("POST", "/api/auth/webauthn/options")).body.code).toBe("second_factor_required");
    expect((await client.json("GET", "/api/me")).body.code).toBe("second_factor_required");
    // A second_factor session of someone never reset cannot use a recovery code.
    const other = await resetWorld();
    const half = new Client();
    await half.json("POST", "/api/auth/login", { email: other.member.email, password: PASSWORD });
    const wrongStage = await half.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    expect(wrongStage.status).toBe(400);
    expect(wrongStage.body.code).toBe("invalid_request");
    // None of these counted or spent the code.
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
  });
});

describe("the enrollment session", () => {
  /** What an `enrollment` session may call (docs/api.md "Session stages"); signup and login accept any session. */
  const ALLOWED = new Set([
    "GET /api/me",
    "POST /api/security/totp",
    "POST /api/security/totp/{}/confirm",
    "POST /api/security/webauthn/options",
    "POST /api/security/webauthn",
    "POST /api/auth/logout",
    "POST /api/auth/signup",
    "POST /api/auth/login",
    // Links from emails work with any session or none (docs/api.md "Session stages").
    "POST /api/auth/verify-email",
    "POST /api/auth/password-reset",
    "POST /api/auth/password-reset/confirm",
    "POST /api/auth/device-link",
  ]);

  it("is refused with 403 enrollment_required on every other documented endpoint, and can still enroll", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const client = await recoveryClient(world.member);
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);

    // The operator's route takes a bearer token, not a session (docs/api.md "Operator recovery").
    const ops = operationsOf(await openAPIDocument()).filter((op) => op.path !== "/api/openapi.json" && !op.path.startsWith("/api/ops/"));
    const refused = ops.filter((op) => !ALLOWED.has(key(op.method, op.path)));
    expect(refused.length).toBeGreaterThanOrEqual(15);
    const ids = { cid: world.admin.communityId, uid: world.member.id, id: "x" };
    for (const op of refused) {
      const path = fillPath(op.path, ids);
      const body = op.method === "get" || op.method === "delete" ? undefined : {};
      const res = await client.json(op.method.toUpperCase(), path, body);
      expect(res.status, `${op.method} ${op.path}`).toBe(403);
      expect(res.body.code, `${op.method} ${op.path}`).toBe("enrollment_required");
    }

    // The enrollment calls that are documented answer without a password prompt or a stage refusal.
    for (const op of ops.filter((o) => ALLOWED.has(key(o.method, o.path)) && o.path.startsWith("/api/security/"))) {
      const res = await client.json(op.method.toUpperCase(), fillPath(op.path, ids), {});
      expect([401, 403], `${op.method} ${op.path}: ${JSON.stringify(res.body)}`).not.toContain(res.status);
    }
    expect((await client.json("GET", "/api/me")).body.stage).toBe("enrollment");
    const enrolled = await enableTOTPFromEnrollment(client);
    expect(enrolled.backupCodes).toHaveLength(10);
    expect((await client.json("GET", "/api/security")).status).toBe(200);
  });

  it("has no way out but enrolling or logging out", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const client = await recoveryClient(world.member);
    await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode });
    // Verifying again is not a way out: the stage does not accept it.
    const verify = await client.json("POST", "/api/auth/verify", { method: "totp", code: "123456" });
    expect(verify.body.code).toBe("enrollment_required");
    expect((await client.request("POST", "/api/auth/logout")).status).toBe(204);
    expect((await client.json("GET", "/api/me")).status).toBe(401);
    await recoveryClient(world.member);
  });
});

describe("the members list", () => {
  it("shows every member with role, 2FA on or off, method types and the outstanding code's expiry", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    const res = await members(world.admin.client, world.admin.communityId);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.members.map((m: { id: string }) => [m.id, m]));
    expect(byId.get(world.admin.id)).toEqual({
      id: world.admin.id,
      email: world.admin.email,
      name: world.admin.name,
      role: "admin",
      twoFactor: { enabled: true, methods: ["totp"] },
      recoveryCodeExpiresAt: null,
      policy: "ok",
      requiredBy: null,
    });
    expect(byId.get(world.member.id)).toMatchObject({ role: "member", twoFactor: { enabled: false, methods: [] }, recoveryCodeExpiresAt: null });
    expect(res.body.members).toHaveLength(2);
  });
});

/** Enrolls an authenticator app from an `enrollment` session; codes from the independent `otpauth`. */
async function enableTOTPFromEnrollment(client: Client): Promise<{ backupCodes: string[] }> {
  const start = await client.json("POST", "/api/security/totp", {});
  expect(start.status).toBe(201);
  const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
  expect(confirm.status).toBe(200);
  return { backupCodes: confirm.body.backupCodes };
}
