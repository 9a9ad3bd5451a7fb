import { argon2id } from "@noble/hashes/argon2.js";
import { scrypt } from "@noble/hashes/scrypt.js";

/**
 * Times one password-hash candidate N times inside workerd and answers the
 * per-hash milliseconds. `performance.now()` around the loop is what the
 * Worker sees; run.mjs also times the request from outside, because deployed
 * Workers freeze the clock during pure computation (a local workerd may too).
 */
const PASSWORD = new TextEncoder().encode("correct horse battery staple");
/** A fixed salt: the cost does not depend on its value (random values are not allowed at global scope). */
const SALT = new Uint8Array(16).fill(7);

async function pbkdf2(password: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: SALT, iterations }, key, 256));
}

/**
 * The service's password hash (src/auth/passwords.ts): PBKDF2-HMAC-SHA256 of
 * `total` iterations, as chained calls of at most 100,000, each call's output
 * the next call's password.
 */
async function pbkdf2Chain(total: number): Promise<Uint8Array> {
  let k = PASSWORD;
  for (let left = total; left > 0; left -= 100_000) k = await pbkdf2(k, Math.min(left, 100_000));
  return k;
}

const CANDIDATES: Record<string, (url: URL) => Promise<unknown> | unknown> = {
  noop: () => null,
  /** `?alg=pbkdf2-chain&iterations=N` (default 600,000): what the benchmark measures as our hash alone. */
  "pbkdf2-chain": (url) => pbkdf2Chain(Math.max(1, Number(url.searchParams.get("iterations") ?? "600000") || 600_000)),
  "pbkdf2-100k": () => pbkdf2(PASSWORD, 100_000),
  "pbkdf2-6x100k": async () => {
    let k = PASSWORD;
    for (let i = 0; i < 6; i++) k = await pbkdf2(k, 100_000);
    return k;
  },
  "argon2id-m19MiB-t2-p1": () => argon2id(PASSWORD, SALT, { m: 19 * 1024, t: 2, p: 1, dkLen: 32 }),
  "scrypt-N2^17-r8-p1": () => scrypt(PASSWORD, SALT, { N: 2 ** 17, r: 8, p: 1, dkLen: 32, maxmem: 256 * 1024 * 1024 }),
  "scrypt-N2^14-r8-p5": () => scrypt(PASSWORD, SALT, { N: 2 ** 14, r: 8, p: 5, dkLen: 32 }),
};

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const name = url.searchParams.get("alg") ?? "";
    const n = Math.min(50, Math.max(1, Number(url.searchParams.get("n") ?? "1")));
    const run = CANDIDATES[name];
    if (!run) return Response.json({ candidates: Object.keys(CANDIDATES) }, { status: 404 });
    try {
      const t0 = performance.now();
      const d0 = Date.now();
      for (let i = 0; i < n; i++) await run(url);
      const perfMs = (performance.now() - t0) / n;
      const dateMs = (Date.now() - d0) / n;
      return Response.json({ alg: name, n, perfMs, dateMs });
    } catch (err) {
      return Response.json({ alg: name, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
};
