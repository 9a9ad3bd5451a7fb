import { generateBackupCodes, hashBackupCode } from "../backup-codes/codes";
import { insertCredential, type NewCredential } from "../factors/webauthn/store";
import type { Admission } from "../lib/admission";
import { type CodeHashParams, newCodeHashParams } from "../lib/code-hash";
import type { Statement } from "../lib/statement";
import { type Change, eventBy } from "./effects";
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

export async function prepareBackupCodes(userId: string, iterations: number, queue: Admission): Promise<PreparedCodes> {
  const codes = generateBackupCodes();
  const params = newCodeHashParams(iterations);
  const hashes = await Promise.all(codes.map((c) => hashBackupCode(userId, c, params, queue) as Promise<string>));
  return { codes, hashes, params };
}

/** Every older code stops working at once. */
export function replaceBackupCodes(sql: SqlStorage, fresh: PreparedCodes): string[] {
  sql.exec("DELETE FROM backup_codes");
  for (const hash of fresh.hashes) sql.exec("INSERT INTO backup_codes (hash) VALUES (?)", hash);
  sql.exec("UPDATE state SET backup_salt = ?, backup_iterations = ? WHERE id = 1", fresh.params.salt, fresh.params.iterations);
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

/** This guard knows only its own user's keys; D1's unique index on the listing copies knows everyone's. */
export async function registeredElsewhere(db: D1Database, credentialId: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM methods WHERE credential_id = ?").bind(credentialId).first()) !== null;
}

/**
 * A verified key joins the user's. `elsewhere`: D1's unique index says another
 * account has it (this guard knows only its own user's keys).
 */
export function addCredential(
  sql: SqlStorage,
  caller: Caller,
  key: { id: string; name: string; credential: NewCredential; elsewhere: boolean },
  fresh: PreparedCodes,
): Change<Outcome<MethodConfirmed>> {
  const count = listMethods(sql).length;
  const wasEnabled = count > 0;
  if (!hasRoomForMethod(sql, count)) return { result: { ok: false, reason: "too_many" }, effect: null };
  if (key.elsewhere || !insertCredential(sql, key.id, key.name, key.credential, caller.now)) return { result: { ok: false, reason: "exists" }, effect: null };
  // Inserted before methodAdded's own INSERT OR IGNORE, so the listing row carries the
  // credential id; should another account win a race for it, the row still appears without it.
  const listing: Statement = {
    sql: "INSERT OR IGNORE INTO methods (id, user_id, type, name, created_at, credential_id) VALUES (?, ?, 'webauthn', ?, ?, ?)",
    params: [key.id, caller.user.id, key.name, caller.now, key.credential.credentialId],
  };
  return methodAdded(sql, caller, key.id, "webauthn", wasEnabled ? null : fresh, [listing]);
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
  leading: Statement[] = [],
): Change<{ ok: true } & MethodConfirmed> {
  const method = listMethods(sql).find((m) => m.id === id) as MethodView;
  const statements: Statement[] = [
    ...leading,
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
