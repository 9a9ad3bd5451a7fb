import { describe, expect, it } from "vitest";
import { utf8 } from "../../lib/encoding";
import { otpauthURI } from "./otpauth-uri";

// Checked against references written by hand: RFC 4648's base32 of the RFC 4226
// seed, and the Key Uri Format's layout, read back with the URL parser.
describe("otpauthURI", () => {
  const secret = utf8("12345678901234567890");

  it("gives the RFC 4226 seed as RFC 4648 base32, without padding, as the typed key and in the URI", () => {
    const { uri, key } = otpauthURI({ issuer: "Edge 2FA", account: "ada+2fa@example.com", secret });
    expect(key).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    expect(new URL(uri).searchParams.get("secret")).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  });

  it("names the issuer in the label and as a parameter, escaped, with SHA1, 6 digits and 30 seconds", () => {
    const url = new URL(otpauthURI({ issuer: "Example & Co", account: "x+y@example.com", secret }).uri);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toBe("/Example & Co:x+y@example.com");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      issuer: "Example & Co",
      secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });
});
