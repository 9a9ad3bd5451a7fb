import * as OTPAuth from "otpauth";

/**
 * Codes as a user types them, and as a leak would spell them. TOTP codes come
 * from the independent `otpauth` library, never from the service's own code.
 */

export const STEP_MS = 30_000;

/** The code an authenticator app shows at `timestamp`. */
export function totpCode(secret: string, timestamp = Date.now()): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp });
}

/** The code of a given 30-second step. */
export function codeOfStep(secret: string, step: number): string {
  return totpCode(secret, step * STEP_MS + 1);
}

/**
 * The previous step's code, for confirming an enrollment while keeping the
 * current step free for a login right after. Near the end of a step the
 * server could already be in the next one, where the previous step's code is
 * two steps old and refused: wait for a fresh step instead of flaking.
 */
export async function previousStepCode(secret: string): Promise<string> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 4_000) await new Promise((r) => setTimeout(r, left + 50));
  return totpCode(secret, Date.now() - STEP_MS);
}

/** A well-formed code that matches none of the steps around `now`: certainly wrong. */
export function wrongTOTP(secrets: string | string[], now = Date.now()): string {
  const list = [secrets].flat();
  const first = list[0] as string;
  const step = Math.floor(now / STEP_MS);
  const near = new Set(list.flatMap((secret) => [-2, -1, 0, 1, 2].map((d) => codeOfStep(secret, step + d))));
  for (let n = 0; ; n++) {
    const candidate = String((Number(codeOfStep(first, step)) + 1 + n * 7919) % 1_000_000).padStart(6, "0");
    if (!near.has(candidate)) return candidate;
  }
}

/** An independent parse of an otpauth:// URI. */
export function parseOTPAuthURI(uri: string): OTPAuth.TOTP {
  const parsed = OTPAuth.URI.parse(uri);
  if (!(parsed instanceof OTPAuth.TOTP)) throw new Error("not a TOTP URI");
  return parsed;
}

/** A grouped code (backup or recovery) as a person might type it, or a leak spell it: with and without its dashes, either case. */
export function spellingsOfCode(code: string): string[] {
  const bare = code.replaceAll("-", "");
  return [...new Set([code, code.toUpperCase(), bare, bare.toUpperCase()])];
}

/** A TOTP secret in every spelling it could leak in: base32 either case, hex, base64, base64url. */
export function spellingsOfTOTPSecret(base32: string): string[] {
  const bytes = new Uint8Array(OTPAuth.Secret.fromBase32(base32).buffer);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const b64 = btoa(String.fromCharCode(...bytes));
  return [base32, base32.toLowerCase(), hex, b64, b64.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")];
}

/** Finds `secret` in `text`, ignoring case; six-digit TOTP codes only where not part of a longer number (timestamps). */
export function contains(text: string, secret: string): boolean {
  if (/^[0-9]{6}$/.test(secret)) return new RegExp(`(?<![0-9])${secret}(?![0-9])`).test(text);
  return text.toLowerCase().includes(secret.toLowerCase());
}
