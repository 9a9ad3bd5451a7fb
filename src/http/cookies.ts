import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";

/**
 * The service's cookies, all `__Host-` (hono/cookie's `prefix: "host"`: Secure,
 * Path=/, no Domain, so no subdomain can set or read them), HttpOnly and
 * SameSite=Lax. Their values are made here and proved elsewhere: a session
 * token is looked up by its hash (src/auth/session-store.ts), a device token
 * carries its own HMAC (src/auth/device.ts); hono's signed cookies are not
 * used because a device cookie must name the account it was minted for and
 * survive a key rotation, which its own MAC does.
 */
export function readHostCookie(c: Context, name: string): string | null {
  return getCookie(c, name, "host") || null;
}

/** Sets `__Host-<name>`; a max age of 0 clears it. */
export function setHostCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, { prefix: "host", maxAge: maxAgeSeconds, httpOnly: true, sameSite: "Lax" });
}
