import { Admission, yieldToEventLoop } from "../lib/admission";
import { timingSafeEqual } from "../lib/constant-time";
import { fromBase64, toBase64, utf8 } from "../lib/encoding";
import { randomBytes } from "../lib/random";

/**
 * Password hashing: PBKDF2-HMAC-SHA256 through WebCrypto (native, no WASM).
 *
 * OWASP's Password Storage Cheat Sheet asks for 600,000 iterations of
 * PBKDF2-HMAC-SHA256. Deployed Workers refuse a single PBKDF2 call above
 * 100,000 iterations, so the total is split into chained calls of at most
 * 100,000: each call's 256-bit output is the next call's password, with the
 * same salt. Every iteration is one HMAC-SHA256 that depends on the previous
 * one, so a guess costs an attacker the same sequential work as one
 * 600,000-iteration call. docs/passwords.md has the argument and the numbers.
 *
 * Stored format: `pbkdf2-sha256$<total iterations>$<salt b64>$<hash b64>`, so
 * the cost can be raised later and old hashes upgraded at login.
 */
export const MAX_PBKDF2_CALL_ITERATIONS = 100_000;
const ALGORITHM = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BITS = 256;

/**
 * Password hashes in flight per isolate when PASSWORD_HASHES_IN_FLIGHT is not
 * set. Measured with the benchmark's login storm (docs/benchmarks.md): one
 * keeps the isolate's thread free between chunks for everyone else, and
 * logins per second do not drop, because the thread is the bottleneck either
 * way (docs/architecture.md "Admission control for the hashes").
 */
export const DEFAULT_HASHES_IN_FLIGHT = 1;

export interface PasswordParams {
  iterations: number;
  /** At most this many password hashes run at once in this isolate; the others wait their turn. */
  inFlight?: number;
}

/**
 * Every password hash of this isolate goes through this queue (module-level
 * on purpose: it holds no user data and no answer depends on it; see
 * src/lib/admission.ts).
 */
const hashing = new Admission();

/** The iteration count of each PBKDF2 call for a total; never above the platform cap. */
export function pbkdf2Plan(total: number): number[] {
  if (!Number.isInteger(total) || total < 1) throw new Error("PBKDF2 iterations must be a positive integer");
  const calls: number[] = [];
  for (let left = total; left > 0; left -= MAX_PBKDF2_CALL_ITERATIONS) {
    calls.push(Math.min(left, MAX_PBKDF2_CALL_ITERATIONS));
  }
  return calls;
}

/**
 * The chained PBKDF2, admitted by the isolate's hashing queue. Between two
 * chunks the event loop gets a turn, so a second step or any other request
 * waits for at most one chunk per hash in flight instead of whole hashes.
 */
function derive(password: string, salt: Uint8Array, total: number, params: PasswordParams): Promise<Uint8Array> {
  return hashing.run(params.inFlight ?? DEFAULT_HASHES_IN_FLIGHT, () => chain(password, salt, total));
}

async function chain(password: string, salt: Uint8Array, total: number): Promise<Uint8Array> {
  let key: Uint8Array = utf8(password.normalize("NFC"));
  for (const [i, iterations] of pbkdf2Plan(total).entries()) {
    if (i > 0) await yieldToEventLoop();
    const material = await crypto.subtle.importKey("raw", key, "PBKDF2", false, ["deriveBits"]);
    const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material, HASH_BITS);
    key = new Uint8Array(bits);
  }
  return key;
}

export async function hashPassword(password: string, params: PasswordParams): Promise<string> {
  return hashWithSalt(password, randomBytes(SALT_BYTES), params);
}

async function hashWithSalt(password: string, salt: Uint8Array, params: PasswordParams): Promise<string> {
  const hash = await derive(password, salt, params.iterations, params);
  return `${ALGORITHM}$${params.iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

interface ParsedHash {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parse(stored: string): ParsedHash | null {
  const [algorithm, iterations, salt, hash] = stored.split("$");
  if (algorithm !== ALGORITHM || !iterations || !salt || !hash) return null;
  const n = Number(iterations);
  if (!Number.isInteger(n) || n < 1) return null;
  return { iterations: n, salt: fromBase64(salt), hash: fromBase64(hash) };
}

export interface PasswordCheck {
  ok: boolean;
  /** The stored hash uses weaker parameters than the current ones: rehash it. */
  needsRehash: boolean;
}

/**
 * A refusal costs at least the configured count, whatever the stored hash
 * holds: an unknown email is checked against `dummyHash` at that count, so a
 * wrong password for an account still on an older, cheaper hash (one that has
 * not logged in since the cost was raised) or on one that does not parse would
 * otherwise answer faster and say the account exists (docs/security.md R12h).
 * The rest of the count is spent on a throwaway derivation; a right password
 * pays its re-hash instead, and whoever sends it knows the account already.
 */
export async function verifyPassword(password: string, stored: string, params: PasswordParams): Promise<PasswordCheck> {
  const parsed = parse(stored);
  const spent = parsed ? parsed.iterations : 0;
  const ok = parsed ? timingSafeEqual(await derive(password, parsed.salt, parsed.iterations, params), parsed.hash) : false;
  if (!ok && spent < params.iterations) await derive(password, new Uint8Array(SALT_BYTES), params.iterations - spent, params);
  return { ok, needsRehash: ok && spent < params.iterations };
}

/**
 * The same password at the current cost, under the stored hash's salt (a login's re-hash, docs/passwords.md
 * "Raising the cost later"). Raising the cost changes no password: keeping the salt keeps the password's
 * generation, so the account's browsers stay its devices (src/auth/device.ts). Someone who has only the
 * password re-hashes it too, at the second step, and must not make the owner's browsers new again. The salt
 * still makes the hash this user's and this password's; a stored value that does not parse gets a new one.
 */
export async function rehashPassword(password: string, stored: string, params: PasswordParams): Promise<string> {
  const parsed = parse(stored);
  return parsed ? hashWithSalt(password, parsed.salt, params) : hashPassword(password, params);
}

/**
 * What changes whenever the password does: the stored hash's salt, new at
 * every change and reset (`hashPassword`) and kept by a cost upgrade
 * (`rehashPassword`). Device tokens are bound to it (src/auth/device.ts), so a
 * new password makes every browser's token worthless. A stored value that
 * does not parse is its own generation.
 */
export function passwordGeneration(stored: string): string {
  const [algorithm, , salt] = stored.split("$");
  return algorithm === ALGORITHM && salt ? salt : stored;
}

/**
 * A well-formed hash no password matches, at the current cost, so a login for
 * an unknown email spends the same time as a wrong password.
 */
export function dummyHash(params: PasswordParams): string {
  const zeros = toBase64(new Uint8Array(SALT_BYTES));
  return `${ALGORITHM}$${params.iterations}$${zeros}$${toBase64(new Uint8Array(HASH_BITS / 8))}`;
}

export function passwordParams(env: { PASSWORD_ITERATIONS: string; PASSWORD_HASHES_IN_FLIGHT?: string }): PasswordParams {
  return { iterations: Number(env.PASSWORD_ITERATIONS) || 600_000, inFlight: Number(env.PASSWORD_HASHES_IN_FLIGHT) || DEFAULT_HASHES_IN_FLIGHT };
}
