import { Admission } from "./admission";
import { fromBase64, toBase64, toHex, utf8 } from "./encoding";
import { randomBytes } from "./random";

/**
 * Backup and recovery codes carry fewer than 112 bits, so NIST SP 800-63B-4
 * (look-up secrets) asks for a salted hash with a cost factor rather than a
 * plain digest: PBKDF2-HMAC-SHA256, one WebCrypto call (at most 100,000
 * iterations, the deployed Workers cap), with a random salt per set of codes.
 * The hash is computed before the guard's synchronous claim, never between a
 * check and its write.
 */
export interface CodeHashParams {
  salt: string;
  iterations: number;
}

export const MAX_CODE_HASH_ITERATIONS = 100_000;

export function newCodeHashParams(iterations: number): CodeHashParams {
  return { salt: toBase64(randomBytes(16)), iterations: Math.min(MAX_CODE_HASH_ITERATIONS, Math.max(1, Math.floor(iterations))) };
}

/**
 * Code hashes in flight per isolate. Issuing codes hashes ten at once; through
 * this queue they run one at a time with the event loop's turn between them,
 * so other requests (another user's second step) wait for one hash, not ten.
 * Separate from the password queue: a second step with a backup code must not
 * wait behind other people's logins. Module-level on purpose: it holds no user
 * data and no answer depends on it (src/lib/admission.ts).
 */
const CODE_HASHES_IN_FLIGHT = 1;
const codeHashing = new Admission();

/** `purpose` and `userId` bind the hash to one kind of code of one user. */
export function hashLookupSecret(purpose: string, userId: string, normalized: string, params: CodeHashParams): Promise<string> {
  return codeHashing.run(CODE_HASHES_IN_FLIGHT, () => derive(purpose, userId, normalized, params));
}

async function derive(purpose: string, userId: string, normalized: string, params: CodeHashParams): Promise<string> {
  const material = await crypto.subtle.importKey("raw", utf8(`${purpose}:${userId}:${normalized}`), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: fromBase64(params.salt), iterations: params.iterations }, material, 256);
  return toHex(new Uint8Array(bits));
}

export function codeHashIterations(env: { CODE_HASH_ITERATIONS?: string }): number {
  return Number(env.CODE_HASH_ITERATIONS) || MAX_CODE_HASH_ITERATIONS;
}
