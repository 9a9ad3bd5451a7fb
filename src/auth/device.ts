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
 * Value: `<key id>.<random>.<mac>`, the MAC (HMAC-SHA256, key derived with
 * HKDF from an ENCRYPTION_KEYS entry) over the random part and the email, so
 * a cookie minted for one account is worthless for another.
 */
/** `__Host-device`. The MAC below is ours, not a signed cookie's: it binds the token to one email and uses the rotating ENCRYPTION_KEYS. */
const DEVICE_COOKIE = "device";
const MAX_AGE_S = 365 * 24 * 60 * 60;

const MAC_INFO = "edge-2fa device cookie v1";

function signed(random: string, email: string): string {
  return `${random}.${email}`;
}

export async function mintDeviceToken(env: Env, email: string): Promise<string> {
  const random = toBase64URL(randomBytes(16));
  const { keyId, mac } = await signWithCurrentKey(env.ENCRYPTION_KEYS, MAC_INFO, signed(random, email));
  return `${keyId}.${random}.${mac}`;
}

/** The token's random part when it is a valid device token for this email, else null. */
export async function deviceFor(env: Env, token: string | null, email: string): Promise<string | null> {
  if (!token || token.length > 200) return null;
  const [id, random, mac] = token.split(".");
  if (!id || !random || !mac) return null;
  return (await verifyWithKey(env.ENCRYPTION_KEYS, MAC_INFO, id, mac, signed(random, email))) ? random : null;
}

export function readDeviceCookie(c: Context): string | null {
  return readHostCookie(c, DEVICE_COOKIE);
}

export function setDeviceCookie(c: Context, token: string): void {
  setHostCookie(c, DEVICE_COOKIE, token, MAX_AGE_S);
}

/**
 * After a second step (or an enrollment) completed a full login: this browser
 * becomes one of the account's devices unless its cookie already names the
 * account. Only a full login mints one, so that an intruder who knows the
 * password but stopped at the second step is still a new browser when they
 * come back (docs/security.md "New-browser alerts").
 */
export async function markKnownDevice(c: Context<AppEnv>, email: string): Promise<void> {
  if (!(await deviceFor(c.env, readDeviceCookie(c), email))) setDeviceCookie(c, await mintDeviceToken(c.env, email));
}
