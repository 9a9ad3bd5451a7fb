import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { Admission } from "../lib/admission";
import { MAX_CODE_HASH_ITERATIONS, newCodeHashParams } from "../lib/code-hash";
import { fromBase64 } from "../lib/encoding";
import { BACKUP_CODE_COUNT, generateBackupCodes, hashBackupCode } from "./codes";

const FORMAT = /^[0-9abcdefghjkmnpqrstvwxyz]{5}-[0-9abcdefghjkmnpqrstvwxyz]{5}$/;

describe("generateBackupCodes", () => {
  it("makes ten distinct codes shaped xxxxx-xxxxx in Crockford base32", () => {
    const codes = generateBackupCodes();
    expect(BACKUP_CODE_COUNT).toBe(10);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(FORMAT);
  });

  it("carries at least 40 random bits per code", () => {
    // 10 symbols of a 32-symbol alphabet (src/lib/codes.test.ts shows each is uniform): 50 bits.
    const [code] = generateBackupCodes();
    const symbols = (code as string).replace("-", "").length;
    expect(symbols * Math.log2(32)).toBeGreaterThanOrEqual(40);
  });
});

describe("hashBackupCode", () => {
  const queue = new Admission();
  const user = "user-a";
  const code = "7k3q9-mx2pd";
  const params = newCodeHashParams(1000);

  it("hashes every accepted spelling of a code the same", async () => {
    const h = await hashBackupCode(user, code, params, queue);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const spelling of ["7K3Q9-MX2PD", "7k3q9mx2pd", "7k3q9 mx2pd", " 7K3Q9 - MX2PD ", "7k3q9-mx2pd\n"]) {
      expect(await hashBackupCode(user, spelling, params, queue), spelling).toBe(h);
    }
  });

  it("keeps the code out of the hash and apart between users, codes and salts", async () => {
    const h = (await hashBackupCode(user, code, params, queue)) as string;
    expect(h).not.toContain("7k3q9");
    expect(await hashBackupCode("user-b", code, params, queue)).not.toBe(h);
    expect(await hashBackupCode(user, "7k3q9-mx2pe", params, queue)).not.toBe(h);
    expect(await hashBackupCode(user, code, newCodeHashParams(1000), queue)).not.toBe(h);
    expect(await hashBackupCode(user, code, { ...params, iterations: 1001 }, queue)).not.toBe(h);
  });

  it("is PBKDF2-HMAC-SHA256 over purpose, user and canonical code, checked with an independent implementation", async () => {
    const expected = bytesToHex(pbkdf2(sha256, `backup-code:${user}:7k3q9mx2pd`, fromBase64(params.salt), { c: params.iterations, dkLen: 32 }));
    expect(await hashBackupCode(user, code, params, queue)).toBe(expected);
  });

  it("never asks for more than one 100,000-iteration PBKDF2 call, the deployed Workers cap", () => {
    expect(newCodeHashParams(600_000).iterations).toBe(MAX_CODE_HASH_ITERATIONS);
    expect(MAX_CODE_HASH_ITERATIONS).toBeLessThanOrEqual(100_000);
  });

  it("refuses what can never be a code", async () => {
    expect(await hashBackupCode(user, "7k3q9-mx2p", params, queue)).toBeNull();
    expect(await hashBackupCode(user, "not a code!", params, queue)).toBeNull();
  });
});
