import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "./encoding";

/**
 * Synchronous SHA-256 (hex). Synchronous on purpose: the guard claims single-use
 * codes in one synchronous step, and an awaited `crypto.subtle.digest` between
 * read and write was seen to let two claims through (PLATFORM.md).
 */
export function sha256Hex(input: string | Uint8Array): string {
  return toHex(sha256(typeof input === "string" ? utf8(input) : input));
}

/**
 * Constant-time equality of two byte strings. Uses the runtime's
 * `crypto.subtle.timingSafeEqual` (workerd has it; it throws on unequal
 * lengths, so lengths are compared first: every caller compares values of a
 * fixed length, digests and codes) and falls back to a loop that never
 * returns early.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  return constantTimeEqual(a, b);
}

/** The fallback: XOR every byte pair, OR the differences, look at the result once. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
