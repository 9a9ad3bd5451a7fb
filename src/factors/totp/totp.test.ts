import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../lib/encoding";
import { checkTOTP, generateHOTP, generateTOTP, stepAt, type TOTPHash } from "./totp";

// The test vectors below are copied from the RFCs, not computed: they check OUR
// HOTP/TOTP code against published answers.

/** RFC 4226 Appendix D: secret "12345678901234567890", counters 0..9, 6 digits. */
const RFC4226_SECRET = utf8("12345678901234567890");
const RFC4226_HOTP = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];

/** RFC 6238 Appendix B: each hash has its own seed (20, 32 and 64 ASCII bytes); 8 digits. */
const RFC6238_SEEDS: Record<TOTPHash, Uint8Array> = {
  SHA1: utf8("12345678901234567890"),
  SHA256: utf8("12345678901234567890123456789012"),
  SHA512: utf8("1234567890123456789012345678901234567890123456789012345678901234"),
};
const RFC6238_TABLE: [number, Record<TOTPHash, string>][] = [
  [59, { SHA1: "94287082", SHA256: "46119246", SHA512: "90693936" }],
  [1111111109, { SHA1: "07081804", SHA256: "68084774", SHA512: "25091201" }],
  [1111111111, { SHA1: "14050471", SHA256: "67062674", SHA512: "99943326" }],
  [1234567890, { SHA1: "89005924", SHA256: "91819424", SHA512: "93441116" }],
  [2000000000, { SHA1: "69279037", SHA256: "90698825", SHA512: "38618901" }],
  [20000000000, { SHA1: "65353130", SHA256: "77737706", SHA512: "47863826" }],
];

describe("generateHOTP", () => {
  it.each(RFC4226_HOTP.map((code, counter) => [counter, code] as const))("RFC 4226 Appendix D, counter %i -> %s", (counter, code) => {
    expect(generateHOTP(RFC4226_SECRET, counter)).toBe(code);
  });
});

describe("generateTOTP", () => {
  for (const [seconds, codes] of RFC6238_TABLE) {
    for (const hash of ["SHA1", "SHA256", "SHA512"] as const) {
      it(`RFC 6238 Appendix B, T=${seconds}s ${hash} -> ${codes[hash]}`, () => {
        expect(generateTOTP(RFC6238_SEEDS[hash], seconds * 1000, 8, hash)).toBe(codes[hash]);
      });
    }
  }

  it("uses 30-second steps from the Unix epoch (RFC 6238 §4.2, T0 = 0, X = 30)", () => {
    // RFC 6238 Appendix B lists T (hex) for each time.
    expect(stepAt(59_000)).toBe(0x1);
    expect(stepAt(1111111109_000)).toBe(0x23523ec);
    expect(stepAt(1111111111_000)).toBe(0x23523ed);
    expect(stepAt(20000000000_000)).toBe(0x27bc86aa);
  });
});

describe("checkTOTP", () => {
  // Codes here come from the independent `otpauth` library, never from generateTOTP.
  const key = utf8("an-authenticator-seed-of-20b").slice(0, 20);
  const reference = new OTPAuth.TOTP({ secret: new OTPAuth.Secret({ buffer: key.slice().buffer }), algorithm: "SHA1", digits: 6, period: 30 });
  const now = 1_790_000_012_345; // some instant in late 2026, 12 s into a step
  const step = Math.floor(now / 30_000);
  const codeAt = (s: number) => reference.generate({ timestamp: s * 30_000 + 1 });

  it("the fixture's codes of neighbouring steps all differ, so each case below tests one step", () => {
    const codes = [-3, -2, -1, 0, 1, 2].map((d) => codeAt(step + d));
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("accepts the current step", () => {
    expect(checkTOTP(key, codeAt(step), now, -1)).toEqual({ ok: true, step });
  });

  it("accepts the previous step (network delay)", () => {
    expect(checkTOTP(key, codeAt(step - 1), now, -1)).toEqual({ ok: true, step: step - 1 });
  });

  it("accepts the previous step at the very first millisecond of a step, and the current one at the last", () => {
    expect(checkTOTP(key, codeAt(step - 1), step * 30_000, -1)).toEqual({ ok: true, step: step - 1 });
    expect(checkTOTP(key, codeAt(step), step * 30_000 + 29_999, -1)).toEqual({ ok: true, step });
  });

  it("refuses two steps back, the next step and further ones", () => {
    for (const d of [-3, -2, 1, 2]) {
      expect(checkTOTP(key, codeAt(step + d), now, -1), `step ${d}`).toEqual({ ok: false, reason: "mismatch" });
    }
  });

  it("refuses a step at or before the last accepted one (RFC 6238 §5.2)", () => {
    expect(checkTOTP(key, codeAt(step), now, step)).toEqual({ ok: false, reason: "replayed" });
    expect(checkTOTP(key, codeAt(step - 1), now, step - 1)).toEqual({ ok: false, reason: "replayed" });
    expect(checkTOTP(key, codeAt(step - 1), now, step)).toEqual({ ok: false, reason: "replayed" });
    // The current step after the previous one was used is still fine.
    expect(checkTOTP(key, codeAt(step), now, step - 1)).toEqual({ ok: true, step });
  });

  it("refuses a right code under another key", () => {
    const other = utf8("another-seed-twenty!");
    expect(checkTOTP(other, codeAt(step), now, -1)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("accepts surrounding spaces", () => {
    expect(checkTOTP(key, ` ${codeAt(step)}\t`, now, -1)).toEqual({ ok: true, step });
  });

  it("refuses malformed input without comparing", () => {
    const right = codeAt(step);
    for (const bad of ["", "12345", "1234567", `${right}0`, right.slice(1), "abcdef", "12 345", "12-345", "１２３４５６", "٠١٢٣٤٥", "+12345", "1e5000"]) {
      expect(checkTOTP(key, bad, now, -1), JSON.stringify(bad)).toEqual({ ok: false, reason: "malformed" });
    }
  });
});
