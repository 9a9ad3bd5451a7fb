import { describe, expect, it } from "vitest";
import { generateGroupedCode, normalizeCode } from "./codes";

/** Crockford's base32 (https://www.crockford.com/base32.html), lower case: no i, l, o, u. */
const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

describe("generateGroupedCode", () => {
  it("joins groups of the given size with dashes", () => {
    expect(generateGroupedCode(2, 5)).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
    expect(generateGroupedCode(4, 4)).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  });

  it("uses only Crockford's 32 symbols, and every one of them in every position (5 bits per character)", () => {
    const seen = Array.from({ length: 10 }, () => new Set<string>());
    for (let n = 0; n < 2000; n++) {
      const chars = generateGroupedCode(2, 5).replace("-", "");
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i] as string;
        expect(CROCKFORD).toContain(ch);
        seen[i]?.add(ch);
      }
    }
    // 2000 draws of one position miss a given symbol with probability (31/32)^2000 ≈ e^-63.
    for (const s of seen) expect(s.size).toBe(32);
  });

  it("never repeats in practice", () => {
    const codes = new Set(Array.from({ length: 5000 }, () => generateGroupedCode(2, 5)));
    expect(codes.size).toBe(5000);
  });
});

describe("normalizeCode", () => {
  it("ignores case, dashes, inner and surrounding spaces", () => {
    for (const input of ["abcde-fghjk", "ABCDE-FGHJK", "abcdefghjk", "AbCdE fGhJk", "  abcde - fghjk  ", "ab-cd-ef-gh-jk", "\tabcde\nfghjk "]) {
      expect(normalizeCode(input, 10), JSON.stringify(input)).toBe("abcdefghjk");
    }
  });

  it("folds Crockford's look-alikes: i and l to 1, o to 0", () => {
    expect(normalizeCode("IiLl1-OoO00", 10)).toBe("1111100000");
  });

  it("refuses the wrong length and letters outside the alphabet", () => {
    expect(normalizeCode("abcde-fghj", 10)).toBeNull();
    expect(normalizeCode("abcde-fghjkm", 10)).toBeNull();
    expect(normalizeCode("", 10)).toBeNull();
    expect(normalizeCode("abcde-fghju", 10)).toBeNull(); // u is not in Crockford's alphabet
    expect(normalizeCode("abcde_fghjk", 10)).toBeNull();
    expect(normalizeCode("abcdé-fghjk", 10)).toBeNull();
  });
});
