import { generateGroupedCode, normalizeCode } from "../lib/codes";
import { sha256Hex } from "../lib/hash";

/** Ten codes of 10 Crockford base32 characters (50 random bits) shown as `xxxxx-xxxxx`. */
export const BACKUP_CODE_COUNT = 10;
const LENGTH = 10;

export function generateBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => generateGroupedCode(2, 5));
}

/** Stored only as this hash; the user id keeps equal codes of two users apart. */
export function hashBackupCode(userId: string, input: string): string | null {
  const code = normalizeCode(input, LENGTH);
  return code === null ? null : sha256Hex(`backup-code:${userId}:${code}`);
}
