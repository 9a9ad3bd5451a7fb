import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../lib/encoding";
import { otpauthURI } from "./otpauth-uri";

// The independent `otpauth` library reads what we write, and writes what we write.
describe("otpauthURI", () => {
  const secret = utf8("12345678901234567890");

  it("is the URI otpauth writes for the same issuer, account and secret", () => {
    const reference = new OTPAuth.TOTP({
      issuer: "Edge 2FA",
      label: "ada+2fa@example.com",
      algorithm: "SHA1",
      digits: 6,
      period: 30,
      secret: new OTPAuth.Secret({ buffer: secret.slice().buffer }),
    });
    expect(otpauthURI({ issuer: "Edge 2FA", account: "ada+2fa@example.com", secret })).toBe(reference.toString());
  });

  it("parses back to the same secret and parameters; RFC 4648's base32 of the RFC 4226 seed", () => {
    const parsed = OTPAuth.URI.parse(otpauthURI({ issuer: "Example & Co", account: "x+y@example.com", secret })) as OTPAuth.TOTP;
    expect(parsed.secret.base32).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    expect([parsed.issuer, parsed.label, parsed.algorithm, parsed.digits, parsed.period]).toEqual(["Example & Co", "x+y@example.com", "SHA1", 6, 30]);
  });
});
