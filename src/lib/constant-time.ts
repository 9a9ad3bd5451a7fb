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
