// The peer with our password hash: PBKDF2-HMAC-SHA256, 600,000 iterations
// (PBKDF2_ITERATIONS overrides, so it follows the measured service's setting),
// a 16-byte random salt and a 32-byte output, as Better Auth's
// `emailAndPassword.password.hash` and `.verify` hooks. Node's async `pbkdf2`
// runs on libuv's thread pool, as Better Auth's own scrypt does, so the event
// loop stays free while a hash runs. One call of 600,000 iterations does the
// same HMAC work as the service's six chained calls of 100,000 (a cap only
// deployed Workers have).
import { pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const pbkdf2Async = promisify(pbkdf2);
export const ITERATIONS = Number(process.env.PBKDF2_ITERATIONS) || 600_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

const derive = (password, salt, iterations) => pbkdf2Async(password.normalize("NFC"), salt, iterations, KEY_BYTES, "sha256");

/** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`, the service's own format. */
export async function hashPassword(password) {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, ITERATIONS);
  return `pbkdf2-sha256$${ITERATIONS}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword({ hash, password }) {
  const [algorithm, iterations, salt, key] = hash.split("$");
  if (algorithm !== "pbkdf2-sha256" || !iterations || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await derive(password, Buffer.from(salt, "base64"), Number(iterations));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
