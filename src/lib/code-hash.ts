import type { Admission } from "./admission";
import { fromBase64, toBase64, toHex, utf8 } from "./encoding";
import { macHexWithKey } from "./mac-key";
import { randomBytes } from "./random";

/**
 * Backup and recovery codes carry fewer than 112 bits, so NIST SP 800-63B-4
 * (look-up secrets) asks for a salted hash with a cost factor rather than a
 * plain digest: PBKDF2-HMAC-SHA256, one WebCrypto call (at most 100,000
 * iterations, the deployed Workers cap), with a random salt per set of codes.
 * The hash is computed before the guard's synchronous claim, never between a
 * check and its write.
 *
 * The cost alone is not enough for a backup code: ten codes of 50 bits share
 * one salt, so a copy of a guard's storage gave a live code after about 2^63
 * PBKDF2 iterations, offline, where no lockout counts. With `keyId`, the
 * PBKDF2 output is keyed with an HMAC under a key derived from that
 * ENCRYPTION_KEYS entry (a Worker secret, never at rest with the hashes), so
 * the copy alone confirms no guess (docs/security.md R12s). The key is applied
 * last, so a set hashed before it can be keyed where it lies, without its
 * codes (src/guard/code-keys.ts).
 */
export interface CodeHashParams {
  salt: string;
  iterations: number;
  /** The ENCRYPTION_KEYS entry that keys the hash; absent for a set stored before keying (its hashes are bare PBKDF2). */
  keyId?: string | null;
}

export const MAX_CODE_HASH_ITERATIONS = 100_000;

export function newCodeHashParams(iterations: number, keyId?: string): CodeHashParams {
  const params = { salt: toBase64(randomBytes(16)), iterations: Math.min(MAX_CODE_HASH_ITERATIONS, Math.max(1, Math.floor(iterations))) };
  return keyId ? { ...params, keyId } : params;
}

/**
 * Code hashes in flight per queue. Issuing codes hashes ten at once; through
 * the queue they run one at a time with the event loop's turn between them,
 * so other requests (another user's second step) wait for one hash, not ten.
 * Separate from the password queue: a second step with a backup code must not
 * wait behind other people's logins.
 *
 * The queue is the caller's, one per guard (`GuardCore.codeHashes`), not one
 * for the isolate: several guards may run in one isolate, and a promise one
 * Durable Object made cannot be settled from another's turn and then do I/O
 * ("Cannot perform I/O on behalf of a different Durable Object"). With a
 * shared queue, a guard waiting behind another guard's hash was woken by that
 * guard, and its own hash then failed or hung (docs/security.md R10g).
 */
const CODE_HASHES_IN_FLIGHT = 1;

/**
 * `purpose` and `userId` bind the hash to one kind of code of one user; `queue` is the calling guard's own;
 * `keys`: ENCRYPTION_KEYS, needed when `params.keyId` is set.
 */
export function hashLookupSecret(
  queue: Admission,
  purpose: string,
  userId: string,
  normalized: string,
  params: CodeHashParams,
  keys?: string,
): Promise<string> {
  return queue.run(CODE_HASHES_IN_FLIGHT, async () => {
    const bare = await derive(purpose, userId, normalized, params);
    if (!params.keyId) return bare;
    if (keys === undefined) throw new Error("a keyed code hash needs ENCRYPTION_KEYS");
    return keyCodeHash(keys, params.keyId, purpose, bare);
  });
}

/** The stored form of a keyed code hash: an HMAC of the bare PBKDF2 output, one derived key per kind of code. */
export function keyCodeHash(keys: string, keyId: string, purpose: string, bare: string): Promise<string> {
  return macHexWithKey(keys, `edge-2fa code hash v1 ${purpose}`, keyId, bare);
}

async function derive(purpose: string, userId: string, normalized: string, params: CodeHashParams): Promise<string> {
  const material = await crypto.subtle.importKey("raw", utf8(`${purpose}:${userId}:${normalized}`), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: fromBase64(params.salt), iterations: params.iterations }, material, 256);
  return toHex(new Uint8Array(bits));
}

export function codeHashIterations(env: { CODE_HASH_ITERATIONS?: string }): number {
  return Number(env.CODE_HASH_ITERATIONS) || MAX_CODE_HASH_ITERATIONS;
}
