import { generateGroupedCode, normalizeCode } from "../lib/codes";
import { sha256Hex } from "../lib/hash";

/** 16 Crockford base32 characters (80 random bits) in groups of four, for reading aloud. */
const LENGTH = 16;
export const RECOVERY_CODE_TTL_MS = 24 * 60 * 60 * 1000;

export function generateRecoveryCode(): string {
  return generateGroupedCode(4, 4);
}

export function hashRecoveryCode(userId: string, input: string): string | null {
  const code = normalizeCode(input, LENGTH);
  return code === null ? null : sha256Hex(`recovery-code:${userId}:${code}`);
}
