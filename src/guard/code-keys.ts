import { BACKUP_CODE_PURPOSE, hashBackupCode } from "../backup-codes/codes";
import type { Admission } from "../lib/admission";
import { keyCodeHash } from "../lib/code-hash";
import { currentKeyId } from "../lib/mac-key";
import { RECOVERY_CODE_PURPOSE } from "../recovery/codes";
import { readState } from "./state";
import type { Caller } from "./types";
import { backupCodeParams, hashRecoveryCandidate, type RecoveryCandidates, recoveryCandidates } from "./verify";

/**
 * Backup codes stored before their hashes were keyed (docs/security.md R12s) are bare PBKDF2, which a copy of
 * the guard's storage can check guesses against. The key is applied on top of that output (src/lib/code-hash.ts),
 * so such a set is keyed where it lies, without knowing its codes: each hash becomes its HMAC under the current
 * ENCRYPTION_KEYS entry, and the set records that entry. The codes keep working; only the copy loses its use.
 *
 * Run when the guard wakes and again before a backup code is checked (a no-op once keyed). The HMACs are
 * computed first; the rewrite is one synchronous step that checks the set is still the one read (not replaced
 * or keyed meanwhile), so it can never apply twice or to a newer set.
 */
export async function keyBareBackupCodes(sql: SqlStorage, keys: string): Promise<void> {
  const before = readState(sql);
  if (!before.backup_salt || before.backup_key_id) return;
  const bare = sql.exec<{ hash: string }>("SELECT hash FROM backup_codes").toArray();
  const keyId = currentKeyId(keys);
  const keyed = await Promise.all(bare.map((r) => keyCodeHash(keys, keyId, BACKUP_CODE_PURPOSE, r.hash)));
  const now = readState(sql);
  if (now.backup_salt !== before.backup_salt || now.backup_key_id) return;
  for (const [i, r] of bare.entries()) sql.exec("UPDATE backup_codes SET hash = ? WHERE hash = ?", keyed[i] as string, r.hash);
  sql.exec("UPDATE state SET backup_key_id = ? WHERE id = 1", keyId);
}

/**
 * A candidate backup code hashed as the user's set is stored, before the claim (null: no set, or not a code).
 * A set from before keying is keyed first, so the candidate is always hashed with the key.
 */
export async function hashBackupCandidate(sql: SqlStorage, keys: string, userId: string, code: string, queue: Admission): Promise<string | null> {
  await keyBareBackupCodes(sql, keys);
  const params = backupCodeParams(sql);
  return params ? hashBackupCode(userId, code, params, queue, keys) : null;
}

/**
 * An outstanding recovery code issued before its hash was keyed (docs/security.md R13n) is keyed where it lies, as
 * backup codes are above: its HMAC under the current ENCRYPTION_KEYS entry, the entry recorded beside it. It keeps
 * working until it expires. The rewrite is one synchronous step that applies only to the very row read (a new reset
 * meanwhile replaced it, or another call keyed it: nothing to do). Run when the guard wakes and before a recovery code
 * is checked; a no-op once keyed.
 */
export async function keyBareRecoveryCode(sql: SqlStorage, keys: string): Promise<void> {
  const bare = sql.exec<{ hash: string }>("SELECT hash FROM recovery WHERE id = 1 AND key_id IS NULL").toArray()[0];
  if (!bare) return;
  const keyId = currentKeyId(keys);
  const keyed = await keyCodeHash(keys, keyId, RECOVERY_CODE_PURPOSE, bare.hash);
  sql.exec("UPDATE recovery SET hash = ?, key_id = ? WHERE id = 1 AND hash = ? AND key_id IS NULL", keyed, keyId, bare.hash);
}

/**
 * A candidate recovery code hashed as the outstanding code (or this session's claim) is stored, before the claim,
 * with what it was hashed against. A code issued before keying is keyed first, so the candidate is always keyed.
 */
export async function hashRecoveryAttempt(
  sql: SqlStorage,
  keys: string,
  caller: Caller,
  code: string,
  queue: Admission,
): Promise<{ found: RecoveryCandidates; hash: string | null }> {
  await keyBareRecoveryCode(sql, keys);
  const found = recoveryCandidates(sql, caller);
  return { found, hash: await hashRecoveryCandidate(sql, caller, code, found, queue, keys) };
}
