import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RelyingParty } from "../src/factors/webauthn/relying-party";
import { countFailure, MAX_FAILURES } from "../src/guard/state";
import type { SessionCaller } from "../src/guard/types";
import type { UserGuard } from "../src/guard/user-guard";
import { totpCode, wrongTOTP } from "./support/codes";
import { enableTOTP, newUser, recoveryLogin } from "./support/fixtures";
import type { SoftAuthenticator } from "./support/soft-authenticator";
import { callerAt, guard, halfCallerAt } from "./support/stores";
import { userWithKey } from "./support/webauthn";

/**
 * docs/api.md "Lockout": an attempt still being checked when a lock is set is
 * answered 429 when it finishes, right or wrong, and nothing shortens a
 * running lock but an admin reset.
 *
 * Each test runs inside the user's guard (runInDurableObject): it starts a
 * verification without awaiting it, so the call runs up to its first await
 * (the challenge or nothing else claimed yet), then, in the same synchronous
 * turn, counts refusals up to the lock with the guard's own `countFailure`,
 * and only then awaits the verification. So the lock is set while the
 * signature check, the secret's decryption or the code's hash is in flight,
 * every time, with no timing luck involved.
 */

const RP: RelyingParty = { id: "localhost", name: "Edge 2FA", origins: ["http://localhost"] };

interface LockState {
  failures: number;
  locked_until: number;
  lock_count: number;
}

function lockState(sql: SqlStorage): LockState {
  return sql.exec<LockState & Record<string, SqlStorageValue>>("SELECT failures, locked_until, lock_count FROM state WHERE id = 1").one();
}

/** Counts refusals with the guard's own function until the account is locked; returns the lock. */
function driveToLock(sql: SqlStorage, now: number): LockState {
  for (let i = lockState(sql).failures; i < MAX_FAILURES; i++) countFailure(sql, now);
  const locked = lockState(sql);
  expect(locked.locked_until).toBeGreaterThan(now);
  return locked;
}

/** A real login challenge issued by the guard to the caller's half session, answered by the soft authenticator. */
async function assertion(instance: UserGuard, caller: SessionCaller, auth: SoftAuthenticator, o: { badSignature?: boolean } = {}) {
  const issued = await instance.webAuthnChallenge(caller, "authentication");
  if (!issued.ok) throw new Error("no challenge");
  // A clone under another key signs the same bytes: a well-formed assertion whose signature is wrong.
  const signer = o.badSignature ? await auth.sameIdOnOtherKey() : auth;
  return signer.assert({ challenge: issued.challenge, rpId: "localhost", allowCredentials: [{ id: auth.id, type: "public-key" }] });
}

describe("an attempt that finishes after a lock was set", () => {
  it("a refused security key whose signature check spans the lock leaves the lock and its end time unchanged, and answers 429", async () => {
    const { user, auth } = await userWithKey();
    await runInDurableObject(guard(user.id), async (instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const caller = await halfCallerAt(instance, user, now);
      const bad = await assertion(instance, caller, auth, { badSignature: true });
      const pending = instance.verifyWebAuthn(caller, bad, RP);
      const locked = driveToLock(sql, now);
      const answer = await pending;
      expect(answer).toEqual({ ok: false, reason: "locked", retryAfter: Math.ceil((locked.locked_until - now) / 1000) });
      expect(lockState(sql)).toEqual(locked);
      // The lock still holds for the right key afterwards.
      const right = await assertion(instance, caller, auth);
      expect(await instance.verifyWebAuthn(caller, right, RP)).toMatchObject({ ok: false, reason: "locked" });
      expect(lockState(sql)).toEqual(locked);
    });
  });

  it("a valid security key whose signature check spans the lock is answered 429 and changes nothing: no login, counter and last use untouched", async () => {
    const { user, auth } = await userWithKey();
    await runInDurableObject(guard(user.id), async (instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const caller = await halfCallerAt(instance, user, now);
      const right = await assertion(instance, caller, auth);
      const keyBefore = sql.exec("SELECT counter, last_used_at FROM webauthn").toArray();
      const pending = instance.verifyWebAuthn(caller, right, RP);
      const locked = driveToLock(sql, now);
      expect(await pending).toMatchObject({ ok: false, reason: "locked" });
      expect(lockState(sql)).toEqual(locked);
      expect(sql.exec("SELECT counter, last_used_at FROM webauthn").toArray()).toEqual(keyBefore);
    });
  });

  it("a TOTP code whose secret is being decrypted when the lock is set: 429 for the right and the wrong code, step and count untouched", async () => {
    const u = await newUser();
    const { secret } = await enableTOTP(u.client);
    await runInDurableObject(guard(u.id), async (instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const stepBefore = sql.exec("SELECT last_step, last_used_at FROM totp").toArray();
      const right = instance.verifyTOTP(callerAt(u, now), totpCode(secret, now));
      const wrong = instance.verifyTOTP(callerAt(u, now), wrongTOTP(secret, now));
      const locked = driveToLock(sql, now);
      expect(await right).toMatchObject({ ok: false, reason: "locked" });
      expect(await wrong).toMatchObject({ ok: false, reason: "locked" });
      expect(lockState(sql)).toEqual(locked);
      expect(sql.exec("SELECT last_step, last_used_at FROM totp").toArray()).toEqual(stepBefore);
    });
  });

  it("a backup code being hashed when the lock is set: 429, the code is not spent and the lock unchanged", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    await runInDurableObject(guard(u.id), async (instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const pending = instance.verifyBackupCode(callerAt(u, now), backupCodes[0] as string);
      const wrong = instance.verifyBackupCode(callerAt(u, now), "zzzzz-zzzzz");
      const locked = driveToLock(sql, now);
      expect(await pending).toMatchObject({ ok: false, reason: "locked" });
      expect(await wrong).toMatchObject({ ok: false, reason: "locked" });
      expect(lockState(sql)).toEqual(locked);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM backup_codes WHERE used_at IS NULL").one().n).toBe(10);
    });
  });

  it("a recovery code being hashed when the lock is set: 429, the code stays unspent and the lock unchanged", async () => {
    const { member, code } = await recoveryLogin();
    await runInDurableObject(guard(member.id), async (instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const caller = { ...callerAt(member, now), stage: "recovery" as const };
      const pending = instance.verifyRecoveryCode(caller, code);
      const locked = driveToLock(sql, now);
      expect(await pending).toMatchObject({ ok: false, reason: "locked" });
      expect(lockState(sql)).toEqual(locked);
      expect(sql.exec<{ n: number }>("SELECT count(*) AS n FROM recovery").one().n).toBe(1);
    });
  });
});

describe("no refusal lowers a running lock", () => {
  it("a refusal counted against a running lock leaves it as it is, and says nothing was counted (null)", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    await runInDurableObject(guard(u.id), async (_instance: UserGuard, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const locked = driveToLock(sql, now);
      // null, not "9 left": a caller that counted during a lock must not warn or email as if a new count had begun.
      expect(countFailure(sql, now + 1000)).toBeNull();
      expect(lockState(sql)).toEqual(locked);
    });
  });
});
