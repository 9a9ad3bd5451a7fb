import type { Context } from "hono";
import { readHostCookie, setHostCookie } from "../http/cookies";
import { toBase64URL } from "../lib/encoding";
import { randomBytes } from "../lib/random";
import { sha256Hex } from "../lib/sha256";

/**
 * `__Host-trusted`: "Remember this browser for 30 days" (docs/security.md
 * "Trusted browsers"). Value: `<user id>.<256 random bits, base64url>`. The
 * user id tells the Worker which guard to ask, and only that user's guard is
 * ever asked: a cookie remembered for one account is never looked up for
 * another, and relabelling it with another user's id only makes that user's
 * guard look for a hash it never stored. The guard keeps the SHA-256 of the
 * whole value, never the value.
 *
 * One browser remembers one account: remembering another account in the same
 * browser replaces the cookie (the first account's row stays listed on its
 * Security page until it expires or is forgotten).
 */
const TRUSTED_COOKIE = "trusted";
export const TRUSTED_COOKIE_MAX_AGE_S = 30 * 24 * 60 * 60;

export function mintTrustedToken(userId: string): { token: string; hash: string } {
  const token = `${userId}.${toBase64URL(randomBytes(32))}`;
  return { token, hash: sha256Hex(token) };
}

/** The hash of this browser's trusted token when the cookie names `userId`, else null. */
export function trustedHashFor(c: Context, userId: string): string | null {
  const token = readHostCookie(c, TRUSTED_COOKIE);
  if (!token || token.length > 200 || !token.startsWith(`${userId}.`)) return null;
  return sha256Hex(token);
}

export function setTrustedCookie(c: Context, token: string): void {
  setHostCookie(c, TRUSTED_COOKIE, token, TRUSTED_COOKIE_MAX_AGE_S);
}

export function clearTrustedCookie(c: Context): void {
  setHostCookie(c, TRUSTED_COOKIE, "", 0);
}
