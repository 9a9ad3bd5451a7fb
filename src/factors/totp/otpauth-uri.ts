import * as OTPAuth from "otpauth";
import { DIGITS, PERIOD_SECONDS } from "./totp";

/**
 * The `otpauth://totp/` URI an authenticator app scans (Google Authenticator's
 * Key Uri Format, which every app follows), written by the `otpauth` library:
 * the issuer both as the label's prefix and as a parameter, the secret in
 * base32 without padding, and the parameters every app supports: SHA1,
 * 6 digits, 30 seconds. Also the key as typed by hand (the same base32).
 */
export function otpauthURI(input: { issuer: string; account: string; secret: Uint8Array }): { uri: string; key: string } {
  const secret = new OTPAuth.Secret({ buffer: input.secret.slice().buffer });
  const totp = new OTPAuth.TOTP({ issuer: input.issuer, label: input.account, algorithm: "SHA1", digits: DIGITS, period: PERIOD_SECONDS, secret });
  return { uri: totp.toString(), key: secret.base32 };
}
