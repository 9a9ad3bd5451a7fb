import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "./encoding";

/**
 * Synchronous SHA-256 (hex). Synchronous on purpose: the guard claims single-use
 * codes in one synchronous step, and an awaited `crypto.subtle.digest` between
 * read and write was seen to let two claims through (docs/architecture.md
 * "Platform facts").
 */
export function sha256Hex(input: string | Uint8Array): string {
  return toHex(sha256(typeof input === "string" ? utf8(input) : input));
}
