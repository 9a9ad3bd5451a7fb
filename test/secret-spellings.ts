import * as OTPAuth from "otpauth";

/**
 * How the secret-leak tests search text for a secret: every spelling a secret
 * could leak in, and a search that does not mistake a timestamp for a code.
 */

/** A TOTP secret in every spelling it could leak in: base32 either case, hex, base64, base64url. */
export function spellingsOfTOTPSecret(base32: string): string[] {
  const bytes = new Uint8Array(OTPAuth.Secret.fromBase32(base32).buffer);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const b64 = btoa(String.fromCharCode(...bytes));
  return [base32, base32.toLowerCase(), hex, b64, b64.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")];
}

/** A grouped code (backup or recovery) with and without its dashes, either case. */
export function spellingsOfCode(code: string): string[] {
  const bare = code.replaceAll("-", "");
  return [...new Set([code, code.toUpperCase(), bare, bare.toUpperCase()])];
}

/** Finds `secret` in `text`, ignoring case; six-digit TOTP codes only where not part of a longer number (timestamps). */
export function contains(text: string, secret: string): boolean {
  if (/^[0-9]{6}$/.test(secret)) return new RegExp(`(?<![0-9])${secret}(?![0-9])`).test(text);
  return text.toLowerCase().includes(secret.toLowerCase());
}
