import { describe, expect, it } from "vitest";
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
  const user = "user-a";
  const code = "7k3q9-mx2pd";

  it("hashes every accepted spelling of a code the same", () => {
    const h = hashBackupCode(user, code);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const spelling of ["7K3Q9-MX2PD", "7k3q9mx2pd", "7k3q9 mx2pd", " 7K3Q9 - MX2PD ", "7k3q9-mx2pd\n"]) {
      expect(hashBackupCode(user, spelling), spelling).toBe(h);
    }
  });

  it("keeps the code out of the hash and apart between users and codes", () => {
    const h = hashBackupCode(user, code) as string;
    expect(h).not.toContain("7k3q9");
    expect(hashBackupCode("user-b", code)).not.toBe(h);
    expect(hashBackupCode(user, "7k3q9-mx2pe")).not.toBe(h);
  });

  it("refuses what can never be a code", () => {
    expect(hashBackupCode(user, "7k3q9-mx2p")).toBeNull();
    expect(hashBackupCode(user, "not a code!")).toBeNull();
  });
});
