import type { Admission } from "../lib/admission";
import { type CodeHashParams, hashLookupSecret } from "../lib/code-hash";
import { generateGroupedCode, normalizeCode } from "../lib/codes";

/** Ten codes of 10 Crockford base32 characters (50 random bits) shown as `xxxxx-xxxxx`. */
export const BACKUP_CODE_COUNT = 10;
/** What a backup code's hash is bound to, beside its user: no other kind of code hashes alike. */
export const BACKUP_CODE_PURPOSE = "backup-code";
const LENGTH = 10;

export function generateBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => generateGroupedCode(2, 5));
}

/**
 * Stored only as this salted, costed hash, keyed when `params.keyId` is set (`keys`: ENCRYPTION_KEYS); null for
 * input that can never be a code. `queue`: the guard's (src/lib/code-hash.ts).
 */
export async function hashBackupCode(userId: string, input: string, params: CodeHashParams, queue: Admission, keys?: string): Promise<string | null> {
  const code = normalizeCode(input, LENGTH);
  return code === null ? null : hashLookupSecret(queue, BACKUP_CODE_PURPOSE, userId, code, params, keys);
}
