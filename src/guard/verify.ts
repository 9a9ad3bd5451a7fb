import { type KeyRing, seal } from "../factors/totp/secret-box";
import { checkTOTP, stepAt } from "../factors/totp/totp";
import type { AssertionAcceptance } from "../factors/webauthn/authentication";
import type { Admission } from "../lib/admission";
import type { CodeHashParams } from "../lib/code-hash";
import { timingSafeEqual } from "../lib/constant-time";
import { utf8 } from "../lib/encoding";
import { hashRecoveryCode } from "../recovery/codes";
import { HALF_SESSION_MS } from "../session";
import { type Effect, eventBy } from "./effects";
import { totpAAD } from "./enroll";
import { clearFailures, countFailure, readState, WARN_ATTEMPTS_LEFT } from "./state";
import type { Caller, Refusal } from "./types";

/**
 * The second step's synchronous bodies. The guard's front (user-guard.ts)
 * does the slow work first (decrypting, hashing, a signature) and checks the
 * lock again after it; each function here then checks and claims in one
 * synchronous step, with no await, so of any number of parallel attempts
 * exactly one wins (docs/architecture.md "Platform facts").
 */

export interface SecretRow {
  id: string;
  key_id: string;
  secret: ArrayBuffer;
  [key: string]: SqlStorageValue;
}

/**
 * The sealed secrets of the confirmed authenticator apps that can still accept
 * a code now, most recently used first: the guard opens them one at a time and
 * stops at the app that takes the code, so a right code from the user's usual
 * phone opens one secret. An app whose last accepted step is the current one
 * (or later) accepts nothing until the next step (the window is the current
 * step and the one before, and never a step at or before the last accepted
 * one), so its secret is not opened at all. This is only a shortcut: the claim
 * reads last_step again and decides alone.
 */
export function totpSecrets(sql: SqlStorage, now: number): SecretRow[] {
  return sql
    .exec<SecretRow>(
      "SELECT id, key_id, secret FROM totp WHERE confirmed_at IS NOT NULL AND last_step < ? ORDER BY last_used_at DESC, confirmed_at",
      stepAt(now),
    )
    .toArray();
}

/**
 * Whether this app takes the code: it matches a step after the app's last
 * accepted one, which the app then takes (RFC 6238 §5.2: a used code must not
 * be accepted again). Read and write in one synchronous step.
 */
export function claimTOTP(sql: SqlStorage, row: SecretRow, key: Uint8Array, code: string, now: number): boolean {
  const last = sql.exec<{ last_step: number }>("SELECT last_step FROM totp WHERE id = ?", row.id).toArray()[0];
  if (!last) return false;
  const check = checkTOTP(key, code, now, last.last_step);
  if (!check.ok) return false;
  const won = sql
    .exec("UPDATE totp SET last_step = ?, last_used_at = ? WHERE id = ? AND last_step < ? RETURNING id", check.step, now, row.id, check.step)
    .toArray();
  return won.length === 1;
}

/**
 * Key rotation: a secret still sealed with an older listed key is sealed again
 * with the current one once it is used, so an old key can be retired when the
 * secrets of active users have moved. Runs after the claim: its await cannot
 * come between a check and its write.
 */
export async function resealIfRotated(sql: SqlStorage, ring: KeyRing, userId: string, row: SecretRow, key: Uint8Array): Promise<void> {
  if (row.key_id === ring.currentId) return;
  const { keyId, box } = await seal(ring, key, totpAAD(userId, row.id));
  sql.exec("UPDATE totp SET key_id = ?, secret = ? WHERE id = ? AND key_id = ?", keyId, box, row.id, row.key_id);
}

/** Salt and cost of the current set of backup codes, to hash a candidate before the claim. */
export function backupCodeParams(sql: SqlStorage): CodeHashParams | null {
  const state = readState(sql);
  if (!state.backup_salt || !state.backup_iterations) return null;
  return { salt: state.backup_salt, iterations: state.backup_iterations, keyId: state.backup_key_id };
}

/** A backup code is spent by the claim itself; on success the user is told how many remain. */
export function claimBackupCode(sql: SqlStorage, caller: Caller, hash: string | null): Effect | null {
  const won =
    hash === null ? [] : sql.exec("UPDATE backup_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING hash", caller.now, hash).toArray();
  if (won.length !== 1) return null;
  clearFailures(sql);
  const remaining = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM backup_codes WHERE used_at IS NULL").one().n;
  return { statements: [], events: [eventBy(caller, "backup_code_used", { remaining })], mailTo: caller.user.email };
}

/** What a recovery code is hashed with: the unspent code's, or the claim this session made (a retry). */
export interface RecoveryCandidates {
  row: { salt: string; iterations: number; key_id: string | null } | undefined;
  claim: { hash: string; salt: string; iterations: number; key_id: string | null } | undefined;
}

export function recoveryCandidates(sql: SqlStorage, caller: Caller): RecoveryCandidates {
  const row = sql.exec<{ salt: string; iterations: number; key_id: string | null }>("SELECT salt, iterations, key_id FROM recovery WHERE id = 1").toArray()[0];
  const claim = caller.sessionId
    ? sql
        .exec<{ hash: string; salt: string; iterations: number; key_id: string | null }>(
          "SELECT hash, salt, iterations, key_id FROM recovery_claims WHERE session_id = ? AND until > ?",
          caller.sessionId,
          caller.now,
        )
        .toArray()[0]
    : undefined;
  return { row, claim };
}

/**
 * Hashes a recovery code with whichever parameters apply (a new reset deletes every claim, so at most one does),
 * keyed with the entry they record (`keys`: ENCRYPTION_KEYS; none recorded: a claim from before keying, bare).
 */
export async function hashRecoveryCandidate(
  sql: SqlStorage,
  caller: Caller,
  code: string,
  found: RecoveryCandidates,
  queue: Admission,
  keys: string,
): Promise<string | null> {
  const stored = found.row ?? found.claim;
  if (!stored || !readState(sql).recovery_pending) return null;
  return hashRecoveryCode(caller.user.id, code, { salt: stored.salt, iterations: stored.iterations, keyId: stored.key_id }, queue, keys);
}

/**
 * The recovery code: spent when accepted (the row is deleted in the claim).
 * The claim is remembered for the claiming session until its own lifetime
 * ends, so when the Worker's D1 write that moves that session on fails, the
 * same session giving the same code again is accepted again ("again": nothing
 * is recorded twice) instead of stranding the user until a new reset. Any
 * other session is refused as before.
 */
export function claimRecoveryCode(sql: SqlStorage, caller: Caller, hash: string | null, found: RecoveryCandidates): "again" | Effect | null {
  const { row, claim } = found;
  if (hash !== null && claim && !row && timingSafeEqual(utf8(hash), utf8(claim.hash))) {
    clearFailures(sql);
    return "again";
  }
  // Deleting the row is the claim: spent once accepted, and the expiry is checked here
  // too because the alarm that deletes expired codes may be late.
  const won =
    hash === null || !readState(sql).recovery_pending
      ? []
      : sql.exec("DELETE FROM recovery WHERE id = 1 AND hash = ? AND expires_at > ? RETURNING id", hash, caller.now).toArray();
  if (won.length !== 1 || !row) return null;
  clearFailures(sql);
  if (caller.sessionId) {
    sql.exec(
      "INSERT OR REPLACE INTO recovery_claims (session_id, hash, salt, iterations, key_id, until) VALUES (?, ?, ?, ?, ?, ?)",
      caller.sessionId,
      hash,
      row.salt,
      row.iterations,
      row.key_id,
      caller.now + HALF_SESSION_MS,
    );
  }
  return {
    statements: [{ sql: "UPDATE users SET recovery_expires_at = NULL WHERE id = ?", params: [caller.user.id] }],
    events: [eventBy(caller, "recovery_code_used")],
    mailTo: caller.user.email,
  };
}

/**
 * A refused attempt counts toward the lock; the one that starts a lock is logged and mailed.
 * The last refusals before a lock, and the one that sets it, carry the count and the lock's
 * length: the caller passed the password step, and the page warns before it locks.
 */
export function refuseAttempt(sql: SqlStorage, caller: Caller): { refusal: Refusal; effect: Effect | null } {
  const counted = countFailure(sql, caller.now);
  const refusal: Refusal =
    counted && counted.left <= WARN_ATTEMPTS_LEFT
      ? { ok: false, reason: "invalid", attemptsLeft: counted.left, lockSeconds: counted.lockMs / 1000 }
      : { ok: false, reason: "invalid" };
  return {
    refusal,
    effect:
      counted?.left !== 0
        ? null
        : { statements: [], events: [eventBy(caller, "locked_out", { lockMinutes: counted.lockMs / 60_000 })], mailTo: caller.user.email },
  };
}

/** A key whose sign counter went backwards may have been cloned: the user is told, whatever else happens. */
export function counterAnomaly(caller: Caller, accepted: AssertionAcceptance): Effect | null {
  if (accepted.ok || accepted.reason !== "counter") return null;
  const data = { methodId: accepted.id, methodType: "webauthn", methodName: accepted.name, storedCounter: accepted.stored, seenCounter: accepted.seen };
  return { statements: [], events: [eventBy(caller, "key_counter_anomaly", data)], mailTo: caller.user.email };
}
