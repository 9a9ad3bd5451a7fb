import type { Context } from "hono";
import type { AppEnv, Env } from "../env";
import { readHostCookie, setHostCookie } from "../http/cookies";
import { toBase64URL } from "../lib/encoding";
import { signWithCurrentKey, verifyWithKey } from "../lib/mac-key";
import { randomBytes } from "../lib/random";

/**
 * Device cookies (OWASP "Slow Down Online Guessing Attacks with Device
 * Cookies"): a browser that has logged in to an account before carries a
 * signed token naming that account. Its password attempts are slowed by a
 * bucket of its own instead of the account's shared one, so someone who keeps
 * failing logins for a victim's email cannot keep the victim out. The token
 * proves nothing else: it never replaces the password or the second factor.
 *
 * A token: `<key id>.<random>.<mac>`, the MAC (HMAC-SHA256, key derived with
 * HKDF from an ENCRYPTION_KEYS entry) over the random part, the email and the
 * account's password generation (the stored hash's salt, `passwordGeneration`
 * in src/auth/passwords.ts), so a cookie minted for one account is worthless
 * for another, and a password change or reset makes every cookie minted
 * before it worthless (docs/security.md R10d): an intruder's browser that once
 * logged in is a new browser again, announced and slowed with the email's
 * shared bucket. Whoever mints or checks a token must know the generation.
 */
/** `__Host-device`. The MAC below is ours, not a signed cookie's: it binds the token to one email and one password, and uses the rotating ENCRYPTION_KEYS. */
const DEVICE_COOKIE = "device";
const MAX_AGE_S = 365 * 24 * 60 * 60;

/** v2: the MAC covers the password generation too; a v1 token (email only) no longer counts, whatever its account. */
const MAC_INFO = "edge-2fa device cookie v2";

/** Neither the random part (base64url) nor a generation (base64, or a stored hash's `$` fields) holds a `.`: the fields cannot run into each other. */
function signed(random: string, email: string, generation: string): string {
  return `${random}.${generation}.${email}`;
}

/**
 * Checked in place of a generation when the email has no account: no token is ever minted for it (a real
 * generation is a salt, or a stored hash, neither of which is empty), and the MACs are still computed, so an
 * unknown email costs the same work as a known one.
 */
const NO_ACCOUNT = "";

export async function mintDeviceToken(env: Env, email: string, generation: string): Promise<string> {
  const random = toBase64URL(randomBytes(16));
  const { keyId, mac } = await signWithCurrentKey(env.ENCRYPTION_KEYS, MAC_INFO, signed(random, email, generation));
  return `${keyId}.${random}.${mac}`;
}

/**
 * One browser may be a device of several accounts (a shared computer, or a device link of someone else's account
 * opened in it): the cookie holds the tokens of the last few, newest first, so a new one never pushes out the
 * account the browser was already known to. `~` is in no token (base64url and the key id) and needs no escaping.
 */
const SEPARATOR = "~";
const MAX_TOKENS = 5;
const MAX_TOKEN_LENGTH = 200;

function tokensOf(cookie: string | null): string[] {
  if (!cookie) return [];
  return cookie
    .split(SEPARATOR)
    .slice(0, MAX_TOKENS)
    .filter((t) => t.length > 0 && t.length <= MAX_TOKEN_LENGTH);
}

/**
 * The random part of the cookie's token for this email and the account's current password generation, when
 * it holds a valid one, else null. `generation` null: the email has no account, and so no device.
 */
export async function deviceFor(env: Env, cookie: string | null, email: string, generation: string | null): Promise<string | null> {
  for (const token of tokensOf(cookie)) {
    const [id, random, mac] = token.split(".");
    if (!id || !random || !mac) continue;
    const valid = await verifyWithKey(env.ENCRYPTION_KEYS, MAC_INFO, id, mac, signed(random, email, generation ?? NO_ACCOUNT));
    if (valid && generation !== null) return random;
  }
  return null;
}

export function readDeviceCookie(c: Context): string | null {
  return readHostCookie(c, DEVICE_COOKIE);
}

/** Adds `token` in front of the tokens the browser sent; the oldest beyond the last few go. */
export function setDeviceCookie(c: Context, token: string): void {
  const kept = tokensOf(readDeviceCookie(c)).filter((t) => t !== token);
  setHostCookie(c, DEVICE_COOKIE, [token, ...kept].slice(0, MAX_TOKENS).join(SEPARATOR), MAX_AGE_S);
}

/**
 * After a second step (or an enrollment) completed a full login: this browser
 * becomes one of the account's devices unless its cookie already names the
 * account. Only a full login mints one, so that an intruder who knows the
 * password but stopped at the second step is still a new browser when they
 * come back (docs/security.md "New-browser alerts"). `generation` is that of
 * the password the login was checked against.
 */
export async function markKnownDevice(c: Context<AppEnv>, email: string, generation: string): Promise<void> {
  if (!(await deviceFor(c.env, readDeviceCookie(c), email, generation))) setDeviceCookie(c, await mintDeviceToken(c.env, email, generation));
}
