import type { Admission } from "../lib/admission";
import { type CodeHashParams, hashLookupSecret } from "../lib/code-hash";
import { generateGroupedCode, normalizeCode } from "../lib/codes";

/** 16 Crockford base32 characters (80 random bits) in groups of four, for reading aloud. */
const LENGTH = 16;
export const RECOVERY_CODE_TTL_MS = 24 * 60 * 60 * 1000;

export function generateRecoveryCode(): string {
  return generateGroupedCode(4, 4);
}

/** What a recovery code's hash is bound to, beside its user: no other kind of code hashes alike. */
export const RECOVERY_CODE_PURPOSE = "recovery-code";

/**
 * Stored only as this salted, costed hash, keyed when `params.keyId` is set (`keys`: ENCRYPTION_KEYS), as backup
 * codes are (docs/security.md R13n); null for input that can never be a code. `queue`: the guard's (src/lib/code-hash.ts).
 */
export async function hashRecoveryCode(userId: string, input: string, params: CodeHashParams, queue: Admission, keys?: string): Promise<string | null> {
  const code = normalizeCode(input, LENGTH);
  return code === null ? null : hashLookupSecret(queue, RECOVERY_CODE_PURPOSE, userId, code, params, keys);
}
