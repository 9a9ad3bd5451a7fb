import { generateBackupCodes, hashBackupCode } from "../backup-codes/codes";
import { findCredential, insertCredential, type NewCredential } from "../factors/webauthn/store";
import type { Admission } from "../lib/admission";
import { type CodeHashParams, newCodeHashParams } from "../lib/code-hash";
import { currentKeyId } from "../lib/mac-key";
import type { Statement } from "../lib/statement";
import { type Change, type Effect, eventBy } from "./effects";
import { abandonClaim, claimOpen, closeClaim, type KeyClaim, openClaim } from "./key-claims";
import { bumpEpoch, epochStatements, listMethods } from "./state";
import type { Caller, MethodConfirmed, MethodType, MethodView, Outcome } from "./types";

/**
 * Adding a method: an authenticator app in two steps (a sealed secret waits
 * for its first code), a security key in one. The first method turns 2FA on.
 * Synchronous bodies; the front awaits the sealing, the ceremony and the
 * hashing of new backup codes before calling them.
 */

/** Unconfirmed authenticator-app enrollments expire after 10 minutes (docs/api.md). */
export const ENROLLMENT_TTL_MS = 10 * 60 * 1000;
/** Unconfirmed apps kept at once: asking again and again cannot grow storage. */
const MAX_PENDING_ENROLLMENTS = 5;

/**
 * Confirmed methods (apps and keys) one account may have. Each is a row here and in D1, and a wrong code at the
 * second step opens every app's secret in turn: without a cap, an account with thousands made every one of its
 * logins do thousands of decryptions (docs/security.md R9k). Twenty is room for a key on every keyring.
 */
export const MAX_METHODS = 20;

/** Whether one more method fits; read where it starts (no secret sealed, no challenge stored for nothing) and in the step that adds it. */
export function hasRoomForMethod(sql: SqlStorage, count = listMethods(sql).length): boolean {
  return count < MAX_METHODS;
}

/** The additional data that binds a sealed TOTP secret to its user and app: a row copied elsewhere does not open. */
export function totpAAD(userId: string, id: string): string {
  return `totp:${userId}:${id}`;
}

/** Stores a sealed secret waiting for its first code; expired and surplus ones go. */
export function storePendingTOTP(sql: SqlStorage, pending: { id: string; name: string; keyId: string; box: Uint8Array }, now: number): void {
  sql.exec("DELETE FROM totp WHERE confirmed_at IS NULL AND pending_expires_at <= ?", now);
  sql.exec(
    `DELETE FROM totp WHERE id IN (SELECT id FROM totp WHERE confirmed_at IS NULL ORDER BY created_at DESC LIMIT -1 OFFSET ?)`,
    MAX_PENDING_ENROLLMENTS - 1,
  );
  sql.exec(
    "INSERT INTO totp (id, name, key_id, secret, created_at, pending_expires_at) VALUES (?, ?, ?, ?, ?, ?)",
    pending.id,
    pending.name,
    pending.keyId,
    pending.box,
    now,
    now + ENROLLMENT_TTL_MS,
  );
}

/** The sealed secret of an enrollment still waiting for its first code. */
export function pendingTOTP(sql: SqlStorage, id: string, now: number): { key_id: string; secret: ArrayBuffer } | undefined {
  return sql
    .exec<{ key_id: string; secret: ArrayBuffer }>("SELECT key_id, secret FROM totp WHERE id = ? AND confirmed_at IS NULL AND pending_expires_at > ?", id, now)
    .toArray()[0];
}

/** Ten new codes and their hashes, computed before the synchronous step that stores them (hashing awaits WebCrypto). */
export interface PreparedCodes {
  codes: string[];
  hashes: string[];
  params: CodeHashParams;
}

/** `keys`: ENCRYPTION_KEYS; the current entry keys the hashes (docs/security.md R12s). */
export async function prepareBackupCodes(userId: string, iterations: number, queue: Admission, keys: string): Promise<PreparedCodes> {
  const codes = generateBackupCodes();
  const params = newCodeHashParams(iterations, currentKeyId(keys));
  const hashes = await Promise.all(codes.map((c) => hashBackupCode(userId, c, params, queue, keys) as Promise<string>));
  return { codes, hashes, params };
}

/** Every older code stops working at once. */
export function replaceBackupCodes(sql: SqlStorage, fresh: PreparedCodes): string[] {
  sql.exec("DELETE FROM backup_codes");
  for (const hash of fresh.hashes) sql.exec("INSERT INTO backup_codes (hash) VALUES (?)", hash);
  sql.exec(
    "UPDATE state SET backup_salt = ?, backup_iterations = ?, backup_key_id = ? WHERE id = 1",
    fresh.params.salt,
    fresh.params.iterations,
    fresh.params.keyId ?? null,
  );
  return fresh.codes;
}

/** The app's first code confirms it; that code's step becomes the last accepted one, so it cannot log in again (RFC 6238 §5.2). */
export function confirmTOTP(sql: SqlStorage, caller: Caller, id: string, step: number, fresh: PreparedCodes): Change<Outcome<MethodConfirmed>> {
  const count = listMethods(sql).length;
  const wasEnabled = count > 0;
  if (!hasRoomForMethod(sql, count)) return { result: { ok: false, reason: "too_many" }, effect: null };
  const won = sql
    .exec("UPDATE totp SET confirmed_at = ?, pending_expires_at = NULL, last_step = ? WHERE id = ? AND confirmed_at IS NULL RETURNING id", caller.now, step, id)
    .toArray();
  if (won.length !== 1) return { result: { ok: false, reason: "not_found" }, effect: null };
  return methodAdded(sql, caller, id, "totp", wasEnabled ? null : fresh);
}

/**
 * A verified key, before D1 hears of it: this guard's own refusals (no room, a key this user already has),
 * then the claim of its credential id (src/guard/key-claims.ts), whose effect writes the listing row to D1.
 */
export function startKeyClaim(
  sql: SqlStorage,
  caller: Caller,
  key: { id: string; name: string; credential: NewCredential },
): Outcome<{ claim: KeyClaim; effect: Effect }> {
  if (!hasRoomForMethod(sql)) return { ok: false, reason: "too_many" };
  if (findCredential(sql, key.credential.credentialId)) return { ok: false, reason: "exists" };
  const claim: KeyClaim = { methodId: key.id, userId: caller.user.id, credentialId: key.credential.credentialId, name: key.name, createdAt: caller.now };
  return { ok: true, claim, effect: openClaim(sql, claim, caller.now) };
}

/**
 * The claimed key joins the user's, or not. `held`: D1 holds the claim's row, so the unique index gave this
 * account the credential id; when it did not, another account has it (409). Either way the claim ends here, and
 * a refusal with the row in D1 takes it back in the same step.
 */
export function addCredential(
  sql: SqlStorage,
  caller: Caller,
  claim: KeyClaim,
  credential: NewCredential,
  held: boolean,
  fresh: PreparedCodes,
): Change<Outcome<MethodConfirmed>> {
  const refuse = (reason: "too_many" | "exists"): Change<Outcome<MethodConfirmed>> => ({
    result: { ok: false, reason },
    effect: abandonClaim(sql, claim, held),
  });
  // Released by the alarm: the registration outlived its claim, and its row is on its way out of D1.
  if (!claimOpen(sql, claim.methodId)) return { result: { ok: false, reason: "invalid" }, effect: null };
  const count = listMethods(sql).length;
  const wasEnabled = count > 0;
  if (!hasRoomForMethod(sql, count)) return refuse("too_many");
  if (!held || !insertCredential(sql, claim.methodId, claim.name, credential, caller.now)) return refuse("exists");
  closeClaim(sql, claim.methodId);
  // The claim wrote the listing row, credential id included; methodAdded's INSERT OR IGNORE finds it there.
  return methodAdded(sql, caller, claim.methodId, "webauthn", wasEnabled ? null : fresh);
}

/**
 * Shared tail of every confirmed enrollment: the first method turns 2FA on,
 * issues ten backup codes, ends a recovery and ends every other session of
 * the user (a password-only session an attacker opened before must not
 * outlive it); every one is logged and mailed.
 */
function methodAdded(
  sql: SqlStorage,
  caller: Caller,
  id: string,
  type: MethodType,
  /** Codes prepared for this enrollment when it is the first method; null when 2FA was already on. */
  fresh: PreparedCodes | null,
): Change<{ ok: true } & MethodConfirmed> {
  const method = listMethods(sql).find((m) => m.id === id) as MethodView;
  const statements: Statement[] = [
    {
      sql: "INSERT OR IGNORE INTO methods (id, user_id, type, name, created_at) VALUES (?, ?, ?, ?, ?)",
      params: [id, caller.user.id, type, method.name, Date.parse(method.createdAt)],
    },
  ];
  const events = [eventBy(caller, "method_added", { methodId: id, methodType: type, methodName: method.name })];
  let backupCodes: string[] | null = null;
  let epoch: number | null = null;
  if (fresh) {
    backupCodes = replaceBackupCodes(sql, fresh);
    sql.exec("UPDATE state SET preferred = ?, recovery_pending = 0 WHERE id = 1", type);
    sql.exec("DELETE FROM recovery_claims");
    epoch = bumpEpoch(sql);
    statements.push(
      {
        sql: "UPDATE users SET two_factor_enabled = 1, preferred = ?, recovery_expires_at = NULL WHERE id = ?",
        params: [type, caller.user.id],
      },
      ...epochStatements(caller.user.id, epoch, caller.sessionId),
    );
    events.unshift(eventBy(caller, "two_factor_enabled"));
  }
  return { result: { ok: true, method, backupCodes, epoch }, effect: { statements, events, mailTo: caller.user.email } };
}
