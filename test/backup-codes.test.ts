import { describe, expect, it } from "vitest";
import { problemOf } from "./support/client";
import { addAuthenticatorApp, enableTOTP, halfSessions, logIn, newUser, reauth, verify } from "./support/fixtures";
import { callerAt, guard, guardCounters, guardRows, outboxOf, updateSession } from "./support/stores";

const FORMAT = /^[0-9abcdefghjkmnpqrstvwxyz]{5}-[0-9abcdefghjkmnpqrstvwxyz]{5}$/;

async function remaining(client: { json: (m: string, p: string) => Promise<{ body: any }> }): Promise<number> {
  return (await client.json("GET", "/api/security")).body.backupCodes.remaining;
}

describe("backup codes", () => {
  it("come as ten codes, once, with the confirmation that turns 2FA on, and not with a second method", async () => {
    const u = await newUser();
    const first = await addAuthenticatorApp(u.client, { name: "Phone" });
    expect(first.backupCodes).toHaveLength(10);
    expect(new Set(first.backupCodes).size).toBe(10);
    for (const code of first.backupCodes ?? []) expect(code).toMatch(FORMAT);
    const second = await addAuthenticatorApp(u.client, { name: "Tablet" });
    expect(second.backupCodes).toBeNull();
    expect(await remaining(u.client)).toBe(10);
  });

  it("are stored only as hashes", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const rows = await guardRows<{ hash: string; used_at: number | null }>(u.id, "SELECT * FROM backup_codes");
    expect(rows).toHaveLength(10);
    const dump = JSON.stringify(rows).toLowerCase();
    for (const row of rows) expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    for (const code of backupCodes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace("-", ""));
    }
  });

  it("each works once, and in any case, with or without the dash, with spaces", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const [a, b, c, d] = backupCodes as [string, string, string, string];
    for (const spelling of [a, b.toUpperCase(), c.replace("-", ""), ` ${d.slice(0, 5)} ${d.slice(6).toUpperCase()} `]) {
      const { client } = await logIn(u.email);
      const v = await verify(client, "backup_code", spelling);
      expect(v.status, spelling).toBe(200);
      expect(v.body).toEqual({ status: "authenticated" });
    }
    expect(await remaining(u.client)).toBe(6);
    for (const used of [a, b, c.toUpperCase(), d.replace("-", "")]) {
      const { client } = await logIn(u.email);
      const v = await verify(client, "backup_code", used);
      expect(v.status, used).toBe(401);
      expect(v.body.code).toBe("invalid_code");
    }
    expect(await remaining(u.client)).toBe(6);
  });

  it("a spent code is not accepted again in any other spelling: Crockford's look-alikes, full-width digits, a Kelvin sign", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const code = backupCodes[0] as string;
    const first = await logIn(u.email);
    expect((await verify(first.client, "backup_code", code)).status).toBe(200);
    const lookAlikes = [
      code.replaceAll("1", "l").replaceAll("0", "O").toUpperCase(),
      code.replaceAll("1", "I").replaceAll("0", "o"),
      code.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))),
      code.replaceAll("k", "\u212a"),
      code.replace("-", "\u2003"),
    ];
    for (const spelling of lookAlikes) {
      const { client } = await logIn(u.email);
      const v = await verify(client, "backup_code", spelling);
      // Folded to the spent code (401, counted) or never a code at all (400, uncounted): never a second success.
      expect([400, 401], spelling).toContain(v.status);
    }
    expect(await remaining(u.client)).toBe(9);
  });

  it("refuses a malformed code with 400 invalid_request", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    for (const bad of ["abcde-fghj", "abcde-fghjk-m", "ábcde-fghjk", ""]) {
      const res = await client.post("/api/auth/verify", { method: "backup_code", code: bad });
      expect(res.status, bad).toBe(400);
      expect((await problemOf(res)).code).toBe("invalid_request");
    }
  });

  it("regeneration (sudo) returns ten new codes and every older code stops working at once", async () => {
    const u = await newUser();
    const { backupCodes: old } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    expect((await verify(client, "backup_code", old[0] as string)).status).toBe(200);
    expect(await remaining(u.client)).toBe(9);

    await updateSession(u.client, { reauth_at: Date.now() - 11 * 60_000 });
    const refused = await u.client.post("/api/security/backup-codes");
    expect(refused.status).toBe(403);
    expect((await problemOf(refused)).code).toBe("reauth_required");

    await reauth(u.client);
    const res = await u.client.json("POST", "/api/security/backup-codes");
    expect(res.status).toBe(200);
    const fresh = res.body.codes as string[];
    expect(fresh).toHaveLength(10);
    expect(new Set([...fresh, ...old]).size).toBe(20);
    for (const code of fresh) expect(code).toMatch(FORMAT);
    expect(await remaining(u.client)).toBe(10);

    // Every old code is refused; half of them, then a new code (which resets the
    // failure count before the lockout's 10th refusal), then the other half.
    const g = guard(u.id);
    const now = Date.now();
    for (const code of old.slice(1, 6)) expect(await g.verifyBackupCode(callerAt(u, now), code), code).toEqual({ ok: false, reason: "invalid" });
    expect(await g.verifyBackupCode(callerAt(u, now), fresh[0] as string)).toMatchObject({ ok: true });
    for (const code of [old[0] as string, ...old.slice(6)])
      expect(await g.verifyBackupCode(callerAt(u, now), code), code).toEqual({ ok: false, reason: "invalid" });
    const { client: next } = await logIn(u.email);
    expect((await verify(next, "backup_code", fresh[1] as string)).status).toBe(200);
    expect(await remaining(u.client)).toBe(8);

    const mails = await outboxOf(u.id);
    const mail = mails.find((m) => m.template === "backup_codes_regenerated");
    expect(mail?.recipient).toBe(u.email);
    for (const m of mails) for (const code of [...old, ...fresh]) expect(m.body.toLowerCase()).not.toContain(code.slice(0, 5));
  });

  it("regeneration needs 2FA on: 409 method_not_enrolled otherwise", async () => {
    const u = await newUser();
    await reauth(u.client);
    const res = await u.client.post("/api/security/backup-codes");
    expect(res.status).toBe(409);
    expect((await problemOf(res)).code).toBe("method_not_enrolled");
  });

  it("the 20-way race: one code verified by 20 half-logged-in sessions at once is accepted exactly once", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const code = backupCodes[3] as string;
    const sessions = await halfSessions(u.email, 20);
    const answers = await Promise.all(sessions.map((s) => s.json("POST", "/api/auth/verify", { method: "backup_code", code })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // Every other answer is a refusal. The guard serialises the 20 claims: the first
    // one wins, and the 19 refusals that follow are counted toward the lockout (an
    // already-used code counts), so refusals 1-10 answer 401 invalid_code, the 10th
    // locks, and the last 9 answer 429. Were the code accepted twice, there would be a
    // second 200 and only 9 counted refusals.
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    for (const a of answers.filter((x) => x.status === 401)) expect(a.body.code).toBe("invalid_code");
    expect(await remaining(u.client)).toBe(9);
    expect((await guardRows(u.id, "SELECT hash FROM backup_codes WHERE used_at IS NOT NULL")).length).toBe(1);
    // The winner, and only the winner, is logged in.
    const me = await Promise.all(sessions.map((s) => s.get("/api/me")));
    expect(me.filter((r) => r.status === 200)).toHaveLength(1);
    expect((await guardCounters(u.id)).locked_until).toBeGreaterThan(Date.now());
  });

  it("shows how many remain on the Security view and records each use (event and email)", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    expect((await verify(client, "backup_code", backupCodes[9] as string)).status).toBe(200);
    const sec = await u.client.json("GET", "/api/security");
    expect(sec.body.backupCodes).toEqual({ remaining: 9 });
    expect(sec.body.events.find((e: { type: string }) => e.type === "backup_code_used")).toMatchObject({ data: { remaining: 9 } });
    const mail = (await outboxOf(u.id)).find((m) => m.template === "backup_code_used");
    expect(mail?.body).toContain("9 backup codes remain");
    expect(mail?.body).not.toContain((backupCodes[9] as string).slice(0, 5));
  });
});
