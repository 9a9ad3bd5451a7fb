import type { Statement } from "../lib/statement";
import { type BucketPolicy, type BucketState, giveBack, type TakeResult, take } from "../lib/token-bucket";
import type { GuardSummary, LoginState, MethodType, MethodView, Refusal } from "./types";

/** At most 10 consecutive refused second factors, then 15 minutes locked (docs/api.md "Lockout"). */
export const MAX_FAILURES = 10;
export const LOCK_MS = 15 * 60 * 1000;
/**
 * Each further lock without a success in between lasts twice as long, up to
 * 16 hours: someone who holds the password gets about 15 guesses a day
 * instead of 960 (NIST SP 800-63B-4 limits consecutive failures), while a
 * lock never becomes permanent for a user with no admin to reset it.
 */
export const MAX_LOCK_DOUBLINGS = 6;

/** Re-entered passwords (reauth, disable, admin reset), per account: a token bucket in the guard, never a lock. */
export const SUDO_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };

export function lockDuration(previousLocks: number): number {
  return LOCK_MS * 2 ** Math.min(previousLocks, MAX_LOCK_DOUBLINGS);
}

export interface StateRow {
  user_id: string | null;
  epoch: number;
  failures: number;
  locked_until: number;
  preferred: MethodType | null;
  recovery_pending: number;
  password_tokens: number | null;
  password_tokens_at: number | null;
  lock_count: number;
  backup_salt: string | null;
  backup_iterations: number | null;
  /** The ENCRYPTION_KEYS entry that keys the backup codes' hashes; null: a set stored before keying (src/guard/code-keys.ts). */
  backup_key_id: string | null;
  /** The epoch a password change or reset ended sessions at (0: none since this column came). */
  password_epoch: number;
  /** 1 once the address is proven (src/guard/tokens.ts). */
  email_verified: number;
  /** The bucket of security emails to the address while it is not proven (src/guard/effects.ts). */
  mail_tokens: number | null;
  mail_tokens_at: number | null;
  [key: string]: SqlStorageValue;
}

export function readState(sql: SqlStorage): StateRow {
  return sql.exec<StateRow>("SELECT * FROM state WHERE id = 1").one();
}

export function lockRemaining(state: StateRow, now: number): number {
  return state.locked_until > now ? Math.ceil((state.locked_until - now) / 1000) : 0;
}

/** The refusal while a lock runs, with its seconds left; null when none runs. */
export function lockRefusal(state: StateRow, now: number): Extract<Refusal, { reason: "locked" }> | null {
  const wait = lockRemaining(state, now);
  return wait > 0 ? { ok: false, reason: "locked", retryAfter: wait } : null;
}

/**
 * The last refusals before a lock say so (docs/api.md "Lockout"): those that
 * leave this many attempts or fewer, and the one that sets the lock. Two
 * warnings before the lock leave the person time to stop or take a backup
 * code; earlier ones would be noise over a typo, and would tell someone who
 * holds only the password more of the account's count than needed.
 */
export const WARN_ATTEMPTS_LEFT = 2;

/** One refusal counted: the attempts left before the lock (0: this one set it) and that lock's length. */
export interface CountedFailure {
  left: number;
  lockMs: number;
}

/**
 * Counts one refused attempt; returns what is left before the lock and the
 * lock's length (`left` 0: this one started a lock, its email says how long),
 * or null when a lock was already running and nothing was counted.
 *
 * Never lowers a running lock (docs/api.md "Lockout": nothing shortens it but
 * a reset): a refusal that meets one counts nothing. Callers re-check the lock
 * synchronously before they count, so this is the last line, not the only one.
 */
export function countFailure(sql: SqlStorage, now: number): CountedFailure | null {
  const state = readState(sql);
  if (state.locked_until > now) return null;
  // A lock that has run out starts a fresh count (its length is remembered in lock_count).
  const failures = (state.locked_until !== 0 ? 0 : state.failures) + 1;
  const lockMs = lockDuration(state.lock_count);
  if (failures >= MAX_FAILURES) {
    sql.exec("UPDATE state SET failures = 0, locked_until = ?, lock_count = lock_count + 1 WHERE id = 1", now + lockMs);
    return { left: 0, lockMs };
  }
  // locked_until is 0 or already past here (read above, in this same synchronous step).
  sql.exec("UPDATE state SET failures = ?, locked_until = 0 WHERE id = 1 AND locked_until <= ?", failures, now);
  return { left: MAX_FAILURES - failures, lockMs };
}

/**
 * A success resets the count; so does an admin reset, which also clears a lock.
 * A verification calls it only after checking, in the same synchronous step,
 * that no lock runs.
 */
export function clearFailures(sql: SqlStorage): void {
  // Usually nothing to clear: then nothing is written.
  sql.exec("UPDATE state SET failures = 0, locked_until = 0, lock_count = 0 WHERE id = 1 AND (failures <> 0 OR locked_until <> 0 OR lock_count <> 0)");
}

export function bumpEpoch(sql: SqlStorage): number {
  return sql.exec<{ epoch: number }>("UPDATE state SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch").one().epoch;
}

/**
 * A new password: sessions end as for any epoch, and the epoch is remembered as the password's, so a login
 * that read the old hash from D1 before this change reached it is told apart (loginState). The new hash and
 * the epoch reach D1 in one batch (src/guard/flush.ts): D1 at this epoch or later has the new hash.
 */
export function bumpPasswordEpoch(sql: SqlStorage): number {
  return sql.exec<{ epoch: number }>("UPDATE state SET epoch = epoch + 1, password_epoch = epoch + 1 WHERE id = 1 RETURNING epoch").one().epoch;
}

/**
 * D1 learns the new epoch: every session older than it dies, except the one the
 * caller is using (raised to the new epoch). Each statement is idempotent.
 */
export function epochStatements(userId: string, epoch: number, keepSessionId?: string): Statement[] {
  const statements: Statement[] = [];
  if (keepSessionId) {
    statements.push({ sql: "UPDATE sessions SET epoch = MAX(epoch, ?) WHERE id = ? AND user_id = ?", params: [epoch, keepSessionId, userId] });
  }
  statements.push({ sql: "UPDATE users SET session_epoch = MAX(session_epoch, ?) WHERE id = ?", params: [epoch, userId] });
  statements.push({ sql: "DELETE FROM sessions WHERE user_id = ? AND epoch < ?", params: [userId, epoch] });
  return statements;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Confirmed methods of both types, oldest first. */
export function listMethods(sql: SqlStorage): MethodView[] {
  const rows = sql
    .exec<{ id: string; type: MethodType; name: string; created_at: number; last_used_at: number | null }>(
      `SELECT id, 'totp' AS type, name, created_at, last_used_at FROM totp WHERE confirmed_at IS NOT NULL
       UNION ALL SELECT id, 'webauthn' AS type, name, created_at, last_used_at FROM webauthn
       ORDER BY created_at`,
    )
    .toArray();
  return rows.map((r) => ({ id: r.id, type: r.type, name: r.name, createdAt: iso(r.created_at) as string, lastUsedAt: iso(r.last_used_at) }));
}

export function methodTypes(sql: SqlStorage): MethodType[] {
  const types = new Set(listMethods(sql).map((m) => m.type));
  return (["totp", "webauthn"] as const).filter((t) => types.has(t));
}

export function backupCodesRemaining(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM backup_codes WHERE used_at IS NULL").one().n;
}

/** The preferred type if still set up, else the first type set up. */
export function effectivePreferred(state: StateRow, types: MethodType[]): MethodType | null {
  if (state.preferred && types.includes(state.preferred)) return state.preferred;
  return types[0] ?? null;
}

/**
 * The token buckets kept in the state row, each in two columns `<name>_tokens`
 * and `<name>_tokens_at` (null until first taken: a full bucket).
 */
type StateBucket = "password" | "mail";

function readBucket(sql: SqlStorage, bucket: StateBucket, now: number): BucketState | null {
  const s = readState(sql);
  const tokens = s[`${bucket}_tokens`] as number | null;
  return tokens === null ? null : { tokens, at: (s[`${bucket}_tokens_at`] as number | null) ?? now };
}

function writeBucket(sql: SqlStorage, bucket: StateBucket, state: BucketState): void {
  sql.exec(`UPDATE state SET ${bucket}_tokens = ?, ${bucket}_tokens_at = ? WHERE id = 1`, state.tokens, state.at);
}

/** Takes a token from one of the state row's buckets; the bucket changes only when one was there. */
export function takeFromStateBucket(sql: SqlStorage, bucket: StateBucket, policy: BucketPolicy, now: number): TakeResult {
  const { result, state } = take(policy, readBucket(sql, bucket, now), now);
  if (result.ok) writeBucket(sql, bucket, state);
  return result;
}

/** Re-entered passwords are slowed per account, like login: a token bucket, never a lock. */
export function takePasswordAttempt(sql: SqlStorage, now: number): TakeResult {
  return takeFromStateBucket(sql, "password", SUDO_POLICY, now);
}

export function refundPasswordAttempt(sql: SqlStorage, now: number): void {
  writeBucket(sql, "password", giveBack(SUDO_POLICY, readBucket(sql, "password", now), now));
}

/**
 * What login needs to know: the stage the password leads to, the methods to offer (the preferred first),
 * and the epoch of the session it opens. `passwordEpoch`: the epoch D1 had when the password's hash was
 * read. Older than the last password change here, the hash read was the one before it: the password may
 * be the old one, so the session is opened at that older epoch and ends with the others once D1 has the
 * change (its half session is refused here at once), instead of outliving it. An epoch moved for any other
 * reason (an admin's reset, a removed method) changed no password: the session opens at the current one.
 */
export function loginState(sql: SqlStorage, passwordEpoch?: number): LoginState {
  const state = readState(sql);
  const epoch = passwordEpoch !== undefined && passwordEpoch < state.password_epoch ? passwordEpoch : state.epoch;
  if (state.recovery_pending) return { stage: "recovery", methods: [], preferred: null, epoch };
  const types = methodTypes(sql);
  if (types.length === 0) return { stage: "authenticated", methods: [], preferred: null, epoch };
  const preferred = effectivePreferred(state, types);
  const methods: LoginState["methods"] = preferred ? [preferred, ...types.filter((t) => t !== preferred)] : [...types];
  if (backupCodesRemaining(sql) > 0) methods.push("backup_code");
  return { stage: "second_factor", methods, preferred, epoch };
}

/** The Security page's view of the user's methods. */
export function summary(sql: SqlStorage): GuardSummary {
  const state = readState(sql);
  const methods = listMethods(sql);
  const recovery = sql.exec<{ expires_at: number }>("SELECT expires_at FROM recovery").toArray()[0];
  return {
    enabled: methods.length > 0,
    preferred: effectivePreferred(state, methodTypes(sql)),
    methods,
    backupCodesRemaining: backupCodesRemaining(sql),
    recoveryExpiresAt: recovery?.expires_at ?? null,
  };
}
