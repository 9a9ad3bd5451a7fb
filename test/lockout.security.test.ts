import { describe, expect, it } from "vitest";
import { generateGroupedCode } from "../src/lib/codes";
import { Client } from "./support/client";
import { STEP_MS, totpCode, wrongTOTP } from "./support/codes";
import { enableTOTP, halfSessions, logIn, newUser, PASSWORD, recoveryLogin, verify } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { callerAt, guard, guardCounters, outboxOf } from "./support/stores";
import { registerKey, verifyWithKey } from "./support/webauthn";

/**
 * docs/api.md "Lockout": 10 consecutive refused second-factor attempts on one
 * account, from any session and with any method, lock /api/auth/verify for 15
 * minutes, correct codes included (429 + Retry-After). 429 answers do not
 * count; a successful second factor resets the count, a correct password does not.
 */
const LOCK_MS = 15 * 60_000;

/** A well-formed backup code that is not one of the user's (50 random bits: never theirs in practice). */
function strangerBackupCode(): string {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const s = Array.from(bytes, (b) => alphabet[b & 31]).join("");
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}

async function expectLocked(res: { status: number; body: any; res: Response }): Promise<number> {
  expect(res.status, JSON.stringify(res.body)).toBe(429);
  expect(res.body.code).toBe("too_many_attempts");
  const retryAfter = Number(res.res.headers.get("Retry-After"));
  expect(retryAfter).toBeGreaterThan(0);
  // Each request carries the time the Worker read when it arrived, and parallel requests
  // reach the guard in any order: one that arrived a moment before the request that set
  // the lock is told a second more than 900 (rounded up). Never more.
  expect(retryAfter).toBeLessThanOrEqual(LOCK_MS / 1000 + 1);
  return retryAfter;
}

async function failTimes(client: Client, secret: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const v = i % 2 === 0 ? await verify(client, "totp", wrongTOTP(secret)) : await verify(client, "backup_code", strangerBackupCode());
    expect(v.status, `refusal ${i + 1}`).toBe(401);
    expect(v.body.code).toBe("invalid_code");
  }
}

describe("second-factor lockout", () => {
  it("counts refusals per account across sessions and methods, replays and used codes included; the 10th locks", async () => {
    const u = await newUser();
    const { secret, backupCodes } = await enableTOTP(u.client);
    // A used TOTP code and a used backup code to replay later (each success also resets the count).
    const spentTOTP = totpCode(secret);
    expect((await verify((await logIn(u.email)).client, "totp", spentTOTP)).status).toBe(200);
    const spentBackup = backupCodes[0] as string;
    expect((await verify((await logIn(u.email)).client, "backup_code", spentBackup)).status).toBe(200);

    const [a, b, c] = (await halfSessions(u.email, 3)) as [Client, Client, Client];
    const attempts: [Client, string, string][] = [
      [a, "totp", wrongTOTP(secret)],
      [b, "backup_code", strangerBackupCode()],
      [c, "totp", spentTOTP],
      [a, "backup_code", spentBackup],
      [b, "totp", wrongTOTP(secret)],
      [c, "backup_code", strangerBackupCode()],
      [a, "totp", spentTOTP],
      [b, "backup_code", spentBackup.toUpperCase()],
      [c, "totp", wrongTOTP(secret)],
    ];
    for (const [client, method, code] of attempts) {
      const v = await verify(client, method, code);
      expect(v.status, `${method} ${code}`).toBe(401);
    }
    expect(await guardCounters(u.id)).toMatchObject({ failures: 9, locked_until: 0 });

    const [d] = (await halfSessions(u.email, 1)) as [Client];
    expect((await verify(d, "backup_code", strangerBackupCode())).status).toBe(401);
    expect((await guardCounters(u.id)).locked_until).toBeGreaterThan(Date.now());

    // Locked: every session, every method, right codes included.
    await expectLocked(await verify(a, "totp", totpCode(secret)));
    await expectLocked(await verify(b, "backup_code", backupCodes[1] as string));
    await expectLocked(await verify(d, "totp", wrongTOTP(secret)));
    // A refused right backup code was not spent.
    expect((await u.client.json("GET", "/api/security")).body.backupCodes.remaining).toBe(9);
  });

  it("counts failed security-key assertions toward the same lockout as codes", async () => {
    const u = await newUser();
    const { secret, backupCodes } = await enableTOTP(u.client);
    const key = await SoftAuthenticator.create();
    expect((await registerKey(u.client, key)).status).toBe(201);
    const [a, b] = (await halfSessions(u.email, 2)) as [Client, Client];
    for (let i = 0; i < 9; i++) {
      // An assertion made for another site (a phishing page) is refused.
      const v =
        i % 3 === 0
          ? await verifyWithKey(i % 2 ? a : b, key, { origin: "https://evil.example" })
          : await verify(i % 2 ? a : b, i % 3 === 1 ? "totp" : "backup_code", i % 3 === 1 ? wrongTOTP(secret) : strangerBackupCode());
      expect(v.status, `attempt ${i + 1}`).toBe(401);
    }
    expect((await verifyWithKey(a, key, { origin: "https://evil.example" })).status).toBe(401);
    // Locked for every method, the right key included.
    await expectLocked(await verifyWithKey(b, key));
    await expectLocked(await verify(b, "backup_code", backupCodes[0] as string));
  });

  it("locks for 15 minutes with Retry-After; 429s do not count or extend it; after it runs out the right code goes through", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    await failTimes(client, secret, 9);
    const before = Date.now();
    expect((await verify(client, "totp", wrongTOTP(secret))).status).toBe(401);
    const after = Date.now();
    const { locked_until: lockedUntil, failures } = await guardCounters(u.id);
    expect(lockedUntil).toBeGreaterThanOrEqual(before + LOCK_MS);
    expect(lockedUntil).toBeLessThanOrEqual(after + LOCK_MS);

    const retryAfter = await expectLocked(await verify(client, "totp", totpCode(secret)));
    expect(retryAfter).toBeGreaterThanOrEqual(LOCK_MS / 1000 - 5);
    for (let i = 0; i < 12; i++) await expectLocked(await verify(client, i % 2 ? "totp" : "backup_code", i % 2 ? wrongTOTP(secret) : strangerBackupCode()));
    // The 429s changed nothing: same deadline, same count.
    expect(await guardCounters(u.id)).toMatchObject({ locked_until: lockedUntil, failures });

    // Move the guard's clock: a second before the end, still locked; at the end, the right code passes.
    const g = guard(u.id);
    const justBefore = lockedUntil - 1000;
    expect(await g.verifyTOTP(callerAt(u, justBefore), totpCode(secret, justBefore))).toEqual({ ok: false, reason: "locked", retryAfter: 1 });
    expect(await g.verifyTOTP(callerAt(u, lockedUntil), totpCode(secret, lockedUntil))).toMatchObject({ ok: true });
    expect(await guardCounters(u.id)).toMatchObject({ failures: 0, locked_until: 0 });
  });

  it("a lock that ran out starts a fresh count", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    await failTimes(client, secret, 10);
    const { locked_until: lockedUntil } = await guardCounters(u.id);
    const g = guard(u.id);
    const later = lockedUntil + 1000;
    for (let i = 0; i < 7; i++) expect(await g.verifyTOTP(callerAt(u, later), wrongTOTP(secret, later))).toEqual({ ok: false, reason: "invalid" });
    // The warning counts from the fresh start, and names the next lock's own length: the second, 30 minutes.
    for (const left of [2, 1, 0])
      expect(await g.verifyTOTP(callerAt(u, later), wrongTOTP(secret, later))).toEqual({ ok: false, reason: "invalid", attemptsLeft: left, lockSeconds: 1800 });
    expect(await g.verifyTOTP(callerAt(u, later), totpCode(secret, later))).toMatchObject({ ok: false, reason: "locked" });
  });

  it("each further lock without a success lasts twice as long, up to 16 hours; a success starts over at 15 minutes", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const g = guard(u.id);
    let now = Date.now();
    const lengths: number[] = [];
    for (let lock = 0; lock < 9; lock++) {
      for (let i = 0; i < 10; i++) expect((await g.verifyTOTP(callerAt(u, now), wrongTOTP(secret, now))).ok).toBe(false);
      const { locked_until: until } = await guardCounters(u.id);
      lengths.push((until - now) / 60_000);
      now = until;
    }
    expect(lengths).toEqual([15, 30, 60, 120, 240, 480, 960, 960, 960]);
    // The right code after the last lock resets the escalation: the next lock is 15 minutes again.
    expect(await g.verifyTOTP(callerAt(u, now), totpCode(secret, now))).toMatchObject({ ok: true });
    now += 2 * STEP_MS;
    for (let i = 0; i < 10; i++) await g.verifyTOTP(callerAt(u, now), wrongTOTP(secret, now));
    expect(((await guardCounters(u.id)).locked_until - now) / 60_000).toBe(15);
  });

  it("each lockout email states that lock's own length, in English and in French (a longer lock is never announced as 15 minutes)", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const g = guard(u.id);
    const french = { ...callerAt(u, 0), lang: "fr" as const };
    let now = Date.now();
    for (let lock = 0; lock < 5; lock++) {
      // The third lock's email goes out in French: the caller's language is the email's.
      const caller = lock === 2 ? { ...french, now } : callerAt(u, now);
      for (let i = 0; i < 10; i++) await g.verifyTOTP(caller, wrongTOTP(secret, now));
      now = (await guardCounters(u.id)).locked_until;
    }
    const mails = (await outboxOf(u.id)).filter((m) => m.template === "locked_out");
    expect(mails.map((m) => m.subject)).toEqual([
      "Two-factor login locked for 15 minutes",
      "Two-factor login locked for 30 minutes",
      "Connexion à deux facteurs bloquée pendant 1 heure",
      "Two-factor login locked for 2 hours",
      "Two-factor login locked for 4 hours",
    ]);
    expect(mails[1]?.body).toContain("two-factor login is locked for 30 minutes.");
    expect(mails[4]?.body).toContain("two-factor login is locked for 4 hours.");
  });

  it("a successful second factor resets the count", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const [a, b] = (await halfSessions(u.email, 2)) as [Client, Client];
    await failTimes(a, secret, 9);
    expect((await verify(b, "totp", totpCode(secret))).status).toBe(200);
    expect((await guardCounters(u.id)).failures).toBe(0);
    // Nine more refusals are again only nine: no lock.
    await failTimes(a, secret, 9);
    expect((await guardCounters(u.id)).locked_until).toBe(0);
    expect((await verify(a, "totp", wrongTOTP(secret))).status).toBe(401);
    await expectLocked(await verify(a, "totp", wrongTOTP(secret)));
  });

  it("a correct password does not reset the count, and a lock does not stop the password step", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const { client: a } = await logIn(u.email);
    await failTimes(a, secret, 9);
    const { client: b, body } = await logIn(u.email);
    expect(body.status).toBe("second_factor_required");
    expect((await guardCounters(u.id)).failures).toBe(9);
    expect((await verify(b, "backup_code", strangerBackupCode())).status).toBe(401);
    await expectLocked(await verify(b, "totp", totpCode(secret)));
    const { client: c, body: again } = await logIn(u.email);
    expect(again.status).toBe("second_factor_required");
    await expectLocked(await verify(c, "totp", totpCode(secret)));
  });

  it("does not count malformed codes: they answer 400 before the guard is asked", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    for (let i = 0; i < 15; i++) {
      const res = await client.json("POST", "/api/auth/verify", i % 2 ? { method: "totp", code: "12345" } : { method: "backup_code", code: "nope" });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
    expect((await guardCounters(u.id)).failures).toBe(0);
    expect((await verify(client, "totp", totpCode(secret))).status).toBe(200);
  });

  it("30 parallel wrong codes on a fresh account: the 10 from half sessions the cap ended are refused uncounted, exactly 10 are counted and the other 10 answer 429", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const sessions = await halfSessions(u.email, 30);
    const answers = await Promise.all(sessions.map((s, i) => (i % 2 ? verify(s, "totp", wrongTOTP(secret)) : verify(s, "backup_code", strangerBackupCode()))));
    // Why exactly 10 and 20: the guard (one Durable Object per account) checks the lock,
    // compares the code and counts the refusal in one synchronous step, with no await
    // between them (a TOTP check awaits only the secret's decryption, before that step).
    // So the 30 requests are counted one after another: the 1st to 10th are refused
    // and counted (401), the 10th sets the lock, and the other 20 find it set (429).
    // A lost update (two requests reading the same count) would count fewer than 10
    // before the lock, and show up here as more than 10 answers of 401.
    // An account keeps its newest 20 half sessions (docs/security.md R10a): the 10 oldest had ended before
    // the race, and their attempts are refused (401) before anything is counted.
    const ended = answers.slice(0, 10).map((a) => a.status);
    expect(ended).toEqual(Array(10).fill(401));
    const statuses = answers.slice(10).map((a) => a.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    for (const a of answers.filter((x) => x.status === 429)) await expectLocked(a);
    const state = await guardCounters(u.id);
    expect(state.locked_until).toBeGreaterThan(Date.now());
    // One lock, so one locked_out email.
    expect((await outboxOf(u.id)).filter((m) => m.template === "locked_out")).toHaveLength(1);
  });

  it("records a locked_out event and an email in the outbox", async () => {
    const u = await newUser();
    const { secret, backupCodes } = await enableTOTP(u.client);
    const { client } = await logIn(u.email);
    await failTimes(client, secret, 10);
    await expectLocked(await verify(client, "totp", totpCode(secret)));
    const sec = await u.client.json("GET", "/api/security");
    expect(sec.body.events[0]).toMatchObject({ type: "locked_out", ip: client.ip });
    const mails = (await outboxOf(u.id)).filter((m) => m.template === "locked_out");
    expect(mails).toHaveLength(1);
    expect(mails[0]?.recipient).toBe(u.email);
    expect(mails[0]?.subject).toMatch(/locked/i);
    expect(mails[0]?.body).toMatch(/15 minutes/);
    for (const code of backupCodes) expect(mails[0]?.body).not.toContain(code);
    expect(mails[0]?.body).not.toContain(totpCode(secret));
    expect(mails[0]?.body).not.toContain(totpCode(secret, Date.now() - STEP_MS));
  });
});

/** The members the last refusals before a lock add to `401 invalid_code` (docs/api.md "Lockout"). */
function warning(res: { status: number; body: any; res: Response }) {
  expect(res.status, JSON.stringify(res.body)).toBe(401);
  expect(res.body.code).toBe("invalid_code");
  return { attemptsLeft: res.body.attemptsLeft, lockSeconds: res.body.lockSeconds, retryAfter: res.res.headers.get("Retry-After") };
}

const NO_WARNING = { attemptsLeft: undefined, lockSeconds: undefined, retryAfter: null };

/** A well-formed recovery code that is not the user's. */
const strangerRecoveryCode = () => generateGroupedCode(4, 4);

describe("the warning before the lock", () => {
  it("the 8th, 9th and 10th refusals say how many attempts are left and the lock's length; earlier ones do not; a success starts over", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const [a, b] = (await halfSessions(u.email, 2)) as [Client, Client];
    for (let i = 1; i <= 7; i++) expect(warning(await verify(a, "totp", wrongTOTP(secret))), `refusal ${i}`).toEqual(NO_WARNING);
    expect(warning(await verify(a, "totp", wrongTOTP(secret)))).toEqual({ attemptsLeft: 2, lockSeconds: 900, retryAfter: null });
    expect(warning(await verify(a, "totp", wrongTOTP(secret)))).toEqual({ attemptsLeft: 1, lockSeconds: 900, retryAfter: null });
    // A right code resets the count: the next refusal is a first one again.
    expect((await verify(b, "totp", totpCode(secret))).status).toBe(200);
    for (let i = 1; i <= 7; i++) expect(warning(await verify(a, "backup_code", strangerBackupCode())), `again ${i}`).toEqual(NO_WARNING);
    expect(warning(await verify(a, "backup_code", strangerBackupCode())).attemptsLeft).toBe(2);
    expect(warning(await verify(a, "backup_code", strangerBackupCode())).attemptsLeft).toBe(1);
    // The refusal that sets the lock stays 401 invalid_code, and says the lock is on and for how long.
    const last = warning(await verify(a, "totp", wrongTOTP(secret)));
    expect(last).toMatchObject({ attemptsLeft: 0, lockSeconds: 900 });
    expect(Number(last.retryAfter)).toBe(900);
    await expectLocked(await verify(a, "totp", totpCode(secret)));
  });

  it("counts the same whatever method failed: codes and a security key share one count", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const key = await SoftAuthenticator.create();
    expect((await registerKey(u.client, key)).status).toBe(201);
    const [a, b] = (await halfSessions(u.email, 2)) as [Client, Client];
    for (let i = 0; i < 7; i++) {
      const v = i % 2 ? await verify(b, "backup_code", strangerBackupCode()) : await verify(a, "totp", wrongTOTP(secret));
      expect(warning(v)).toEqual(NO_WARNING);
    }
    expect(warning(await verifyWithKey(b, key, { origin: "https://evil.example" }))).toMatchObject({ attemptsLeft: 2, lockSeconds: 900 });
    expect(warning(await verify(a, "backup_code", strangerBackupCode()))).toMatchObject({ attemptsLeft: 1, lockSeconds: 900 });
    expect(warning(await verifyWithKey(a, key, { origin: "https://evil.example" }))).toMatchObject({ attemptsLeft: 0, lockSeconds: 900 });
    await expectLocked(await verifyWithKey(b, key));
  });

  it("warns at the recovery-code step too, which shares the count", async () => {
    const { client } = await recoveryLogin();
    for (let i = 0; i < 7; i++) expect(warning(await verify(client, "recovery_code", strangerRecoveryCode()))).toEqual(NO_WARNING);
    expect(warning(await verify(client, "recovery_code", strangerRecoveryCode())).attemptsLeft).toBe(2);
    expect(warning(await verify(client, "recovery_code", strangerRecoveryCode())).attemptsLeft).toBe(1);
    expect(warning(await verify(client, "recovery_code", strangerRecoveryCode()))).toMatchObject({ attemptsLeft: 0, lockSeconds: 900, retryAfter: "900" });
  });

  it("is never told at the password step: a right or wrong password answers the same whatever the count", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    const fresh = await newUser();
    await enableTOTP(fresh.client);
    const { client } = await logIn(u.email);
    for (let i = 0; i < 9; i++) await verify(client, "totp", wrongTOTP(secret));
    expect(await guardCounters(u.id)).toMatchObject({ failures: 9 });
    const login = async (email: string, password: string) => (await new Client().json("POST", "/api/auth/login", { email, password })).body;
    expect(await login(u.email, PASSWORD)).toEqual(await login(fresh.email, PASSWORD));
    const wrong = await login(u.email, "not the password at all");
    expect(wrong).toEqual(await login(fresh.email, "not the password at all"));
    expect(wrong).not.toHaveProperty("attemptsLeft");
    // A code sent with no half session is refused before the guard is asked: nothing to tell.
    const stranger = await new Client().json("POST", "/api/auth/verify", { method: "totp", code: wrongTOTP(secret) });
    expect(stranger.status).toBe(401);
    expect(stranger.body).not.toHaveProperty("attemptsLeft");
  });
});
