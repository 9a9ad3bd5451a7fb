import { toBase32 } from "../../lib/encoding";
import { DIGITS, PERIOD_SECONDS } from "./totp";

/**
 * The `otpauth://totp/` URI an authenticator app scans (Google Authenticator's
 * Key Uri Format, which every app follows): the issuer both as the label's
 * prefix and as a parameter, the secret in base32 without padding, and the
 * parameters every app supports: SHA1, 6 digits, 30 seconds.
 */
export function otpauthURI(input: { issuer: string; account: string; secret: Uint8Array }): string {
  const e = encodeURIComponent;
  const issuer = e(input.issuer);
  return `otpauth://totp/${issuer}:${e(input.account)}?issuer=${issuer}&secret=${toBase32(input.secret)}&algorithm=SHA1&digits=${DIGITS}&period=${PERIOD_SECONDS}`;
}
