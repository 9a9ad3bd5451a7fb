import type { Context } from "hono";
import type { Env } from "../env";
import { readHostCookie, setHostCookie } from "../http/cookies";
import { fromBase64URL, toBase64URL, utf8 } from "../lib/encoding";
import { parseEncryptionKeys } from "../lib/encryption-keys";
import { macKey } from "../lib/mac-key";
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

function signed(random: string, email: string): Uint8Array {
  return utf8(`${random}.${email}`);
}

export async function mintDeviceToken(env: Env, email: string): Promise<string> {
  const current = parseEncryptionKeys(env.ENCRYPTION_KEYS)[0] as { id: string; raw: Uint8Array };
  const random = toBase64URL(randomBytes(16));
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(current.raw, MAC_INFO), signed(random, email)));
  return `${current.id}.${random}.${toBase64URL(mac)}`;
}

/** The token's random part when it is a valid device token for this email, else null. */
export async function deviceFor(env: Env, token: string | null, email: string): Promise<string | null> {
  if (!token || token.length > 200) return null;
  const [id, random, mac] = token.split(".");
  if (!id || !random || !mac) return null;
  const entry = parseEncryptionKeys(env.ENCRYPTION_KEYS).find((k) => k.id === id);
  if (!entry) return null;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64URL(mac);
  } catch {
    return null;
  }
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await macKey(entry.raw, MAC_INFO), bytes, signed(random, email));
  return ok ? random : null;
}

export function readDeviceCookie(c: Context): string | null {
  return readHostCookie(c, DEVICE_COOKIE);
}

export function setDeviceCookie(c: Context, token: string): void {
  setHostCookie(c, DEVICE_COOKIE, token, MAX_AGE_S);
}
