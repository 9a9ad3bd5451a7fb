import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { dummyHash, hashPassword, MAX_PBKDF2_CALL_ITERATIONS, passwordParams, pbkdf2Plan, verifyPassword } from "../src/auth/passwords";
// Vite inlines the file's text at build time, so the test reads the deployed value itself.
import wranglerToml from "../wrangler.toml?raw";
import { Client } from "./support/client";
import { newUser, uniqueEmail } from "./support/fixtures";

/** OWASP Password Storage Cheat Sheet: PBKDF2-HMAC-SHA256 needs at least 600,000 iterations. */
const OWASP_PBKDF2_SHA256 = 600_000;
const PASSWORD = "correct horse battery staple";
const b64 = (hex: string) => btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))));

afterEach(() => vi.restoreAllMocks());

/** Records the iterations of every PBKDF2 deriveBits call while `run` runs. */
async function pbkdf2Calls(run: () => Promise<unknown>): Promise<number[]> {
  const calls: number[] = [];
  const original = crypto.subtle.deriveBits.bind(crypto.subtle);
  vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((algorithm, key, length) => {
    const a = algorithm as { name: string; iterations: number };
    if (a.name === "PBKDF2") calls.push(a.iterations);
    return original(algorithm, key, length);
  });
  await run();
  return calls;
}

describe("hashPassword / verifyPassword", () => {
  const params = { iterations: 1000 };

  it("round trip: the right password verifies, a wrong one does not", async () => {
    const stored = await hashPassword(PASSWORD, params);
    expect(await verifyPassword(PASSWORD, stored, params)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword(`${PASSWORD} `, stored, params)).ok).toBe(false);
    expect((await verifyPassword("Correct horse battery staple", stored, params)).ok).toBe(false);
  });

  it("stores algorithm, iterations, a 128-bit salt and a 256-bit hash; two hashes of one password differ", async () => {
    const a = await hashPassword(PASSWORD, params);
    const b = await hashPassword(PASSWORD, params);
    expect(a).not.toBe(b);
    const [algorithm, iterations, salt, hash] = a.split("$");
    expect(algorithm).toBe("pbkdf2-sha256");
    expect(iterations).toBe("1000");
    expect(atob(salt!).length).toBe(16);
    expect(atob(hash!).length).toBe(32);
  });

  it("flags a hash cheaper than the current parameters for rehashing, only when the password is right", async () => {
    const stored = await hashPassword(PASSWORD, { iterations: 500 });
    expect(await verifyPassword(PASSWORD, stored, params)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("wrong", stored, params)).toEqual({ ok: false, needsRehash: false });
  });

  it("refuses malformed or foreign stored hashes", async () => {
    for (const stored of ["", "plain", "bcrypt$10$abc$def", "pbkdf2-sha256$0$AAAA$AAAA", "pbkdf2-sha256$x$AAAA$AAAA"]) {
      expect((await verifyPassword(PASSWORD, stored, params)).ok).toBe(false);
    }
  });

  it("one call is standard PBKDF2-HMAC-SHA256 (RFC 7914 §11 vectors)", async () => {
    // P="passwd", S="salt", c=1 and P="Password", S="NaCl", c=80000; first 32 bytes of the 64-byte outputs.
    const v1 = `pbkdf2-sha256$1$${btoa("salt")}$${b64("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")}`;
    expect((await verifyPassword("passwd", v1, params)).ok).toBe(true);
    const v2 = `pbkdf2-sha256$80000$${btoa("NaCl")}$${b64("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")}`;
    expect((await verifyPassword("Password", v2, params)).ok).toBe(true);
  });

  it("250,000 iterations are chained calls of 100k, 100k, 50k (vector computed with Node's OpenSSL pbkdf2Sync)", async () => {
    // salt = bytes 0..15; k0 = password; k(i+1) = PBKDF2-SHA256(k(i), salt, n(i), 32).
    const stored = "pbkdf2-sha256$250000$AAECAwQFBgcICQoLDA0ODw==$WgEmVxdp4OoTt76hpM/4fXphhWjXxEM92vjILFzZjYM=";
    const calls = await pbkdf2Calls(async () => expect((await verifyPassword(PASSWORD, stored, params)).ok).toBe(true));
    expect(calls).toEqual([100_000, 100_000, 50_000]);
  });
});

describe("pbkdf2Plan", () => {
  it("600,000 is six calls of 100,000: none above the cap, summing to the total", () => {
    const plan = pbkdf2Plan(600_000);
    expect(plan).toEqual(Array(6).fill(100_000));
    expect(Math.max(...plan)).toBeLessThanOrEqual(100_000);
    expect(plan.reduce((a, b) => a + b, 0)).toBe(600_000);
  });

  it("any total: every call <= 100,000 and the sum is the total", () => {
    for (const total of [1, 999, 100_000, 100_001, 250_000, 1_000_000, 1_234_567]) {
      const plan = pbkdf2Plan(total);
      expect(plan.every((n) => n >= 1 && n <= 100_000)).toBe(true);
      expect(plan.reduce((a, b) => a + b, 0)).toBe(total);
    }
    expect(MAX_PBKDF2_CALL_ITERATIONS).toBe(100_000);
  });

  it("refuses nonsense totals", () => {
    for (const total of [0, -1, 1.5, Number.NaN]) expect(() => pbkdf2Plan(total)).toThrow();
  });
});

describe("production cost", () => {
  it("wrangler.toml sets PASSWORD_ITERATIONS to OWASP's minimum (600,000) or more", () => {
    const match = /^PASSWORD_ITERATIONS\s*=\s*"(\d+)"/m.exec(wranglerToml);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(OWASP_PBKDF2_SHA256);
    // The suite itself runs cheaper (vitest.config.ts overrides the binding).
    expect(Number(env.PASSWORD_ITERATIONS)).toBeLessThan(OWASP_PBKDF2_SHA256);
  });

  it("a real 600,000-iteration hash and verify: no single deriveBits call above 100,000", async () => {
    const production = passwordParams({ PASSWORD_ITERATIONS: /^PASSWORD_ITERATIONS\s*=\s*"(\d+)"/m.exec(wranglerToml)![1]! });
    expect(production.iterations).toBe(OWASP_PBKDF2_SHA256);
    let stored = "";
    const hashCalls = await pbkdf2Calls(async () => {
      stored = await hashPassword(PASSWORD, production);
    });
    expect(hashCalls).toEqual(Array(6).fill(100_000));
    expect(stored.startsWith("pbkdf2-sha256$600000$")).toBe(true);
    vi.restoreAllMocks();
    const verifyCalls = await pbkdf2Calls(async () => expect(await verifyPassword(PASSWORD, stored, production)).toEqual({ ok: true, needsRehash: false }));
    expect(Math.max(...verifyCalls)).toBeLessThanOrEqual(100_000);
    expect(verifyCalls.reduce((a, b) => a + b, 0)).toBe(600_000);
  });

  it("the 600,000 chain matches an independent implementation (Node's OpenSSL, six chained pbkdf2Sync calls)", async () => {
    const stored = "pbkdf2-sha256$600000$AAECAwQFBgcICQoLDA0ODw==$rfDFKdlz6hQsDnqes4jawGjfp+mn20j77PR84Xj0KfE=";
    expect((await verifyPassword(PASSWORD, stored, { iterations: 600_000 })).ok).toBe(true);
  });
});

describe("the dummy hash for unknown emails", () => {
  it("has the same iteration count as a real hash at the configured cost, and matches no password", async () => {
    for (const params of [passwordParams(env), { iterations: 600_000 }]) {
      const dummy = dummyHash(params);
      expect(dummy.split("$")[1]).toBe(String(params.iterations));
      const real = await hashPassword(PASSWORD, { iterations: 1000 });
      expect(real.split("$")[0]).toBe(dummy.split("$")[0]);
    }
    const params = passwordParams(env);
    expect((await verifyPassword(PASSWORD, dummyHash(params), params)).ok).toBe(false);
    expect((await verifyPassword("", dummyHash(params), params)).ok).toBe(false);
  });

  it("verifying against it runs the same PBKDF2 calls as verifying a real hash", async () => {
    const params = { iterations: 250_000 };
    const real = await hashPassword(PASSWORD, params);
    const realCalls = await pbkdf2Calls(() => verifyPassword("a wrong password", real, params));
    vi.restoreAllMocks();
    const dummyCalls = await pbkdf2Calls(() => verifyPassword("a wrong password", dummyHash(params), params));
    expect(dummyCalls).toEqual(realCalls);
    expect(realCalls).toEqual([100_000, 100_000, 50_000]);
  });

  it("a login for an unknown email runs the same PBKDF2 work as a wrong password for a known one (through the Worker)", async () => {
    const known = await newUser();
    const wrong = await pbkdf2Calls(() => new Client().request("POST", "/api/auth/login", { email: known.email, password: "a wrong password here" }));
    vi.restoreAllMocks();
    const unknown = await pbkdf2Calls(() =>
      new Client().request("POST", "/api/auth/login", { email: uniqueEmail("ghost"), password: "a wrong password here" }),
    );
    expect(wrong).toEqual(pbkdf2Plan(Number(env.PASSWORD_ITERATIONS)));
    expect(unknown).toEqual(wrong);
  });
});

describe("the isolate's hashing queue", () => {
  /** The salt (base64) of each PBKDF2 call, in call order: which hash each chunk belongs to. */
  async function chunkOwners(run: () => Promise<unknown>): Promise<string[]> {
    const owners: string[] = [];
    const original = crypto.subtle.deriveBits.bind(crypto.subtle);
    vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((algorithm, key, length) => {
      const a = algorithm as { name: string; salt: Uint8Array };
      if (a.name === "PBKDF2") owners.push(btoa(String.fromCharCode(...new Uint8Array(a.salt))));
      return original(algorithm, key, length);
    });
    await run();
    return owners;
  }

  /** Hashes that ran whole before the next one started: each owner's chunks are contiguous. */
  function runsWhole(owners: string[]): boolean {
    const done = new Set<string>();
    for (const [i, o] of owners.entries()) {
      if (done.has(o)) return false;
      if (owners[i + 1] !== o) done.add(o);
    }
    return true;
  }

  const stored = (salt: number) => `pbkdf2-sha256$300000$${btoa(String.fromCharCode(...new Uint8Array(16).fill(salt)))}$${b64("00".repeat(32))}`;

  it("with one hash in flight (the default), parallel hashes run one after another, each whole", async () => {
    expect(passwordParams(env).inFlight).toBe(1);
    const params = { iterations: 300_000, inFlight: 1 };
    const owners = await chunkOwners(() => Promise.all([1, 2, 3, 4].map((s) => verifyPassword("a wrong password", stored(s), params))));
    expect(owners).toHaveLength(12);
    expect(new Set(owners).size).toBe(4);
    expect(runsWhole(owners)).toBe(true);
  });

  it("with two in flight, two hashes interleave their chunks (the limit comes from configuration)", async () => {
    const params = passwordParams({ PASSWORD_ITERATIONS: "300000", PASSWORD_HASHES_IN_FLIGHT: "2" });
    expect(params.inFlight).toBe(2);
    const owners = await chunkOwners(() => Promise.all([5, 6].map((s) => verifyPassword("a wrong password", stored(s), params))));
    expect(owners).toHaveLength(6);
    expect(runsWhole(owners)).toBe(false);
  });

  it("a hash that fails releases its place: the ones queued behind it still run", async () => {
    const params = { iterations: 200_000, inFlight: 1 };
    const original = crypto.subtle.deriveBits.bind(crypto.subtle);
    let calls = 0;
    vi.spyOn(crypto.subtle, "deriveBits").mockImplementation((algorithm, key, length) => {
      calls += 1;
      if (calls === 1) return Promise.reject(new Error("platform failure"));
      return original(algorithm, key, length);
    });
    const [failed, next] = await Promise.allSettled([hashPassword(PASSWORD, params), hashPassword(PASSWORD, params)]);
    expect(failed.status).toBe("rejected");
    expect(next.status).toBe("fulfilled");
    const hash = (next as PromiseFulfilledResult<string>).value;
    expect((await verifyPassword(PASSWORD, hash, params)).ok).toBe(true);
  });
});
