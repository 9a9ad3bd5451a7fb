import type { Env } from "../env";
import { toBase64URL } from "../lib/encoding";
import { signWithCurrentKey, verifyWithKey } from "../lib/mac-key";
import { randomBytes } from "../lib/random";
import { sha256Hex } from "../lib/sha256";

/**
 * The session token of a half session (password passed, second step to come):
 * `<key id>.<user id>.<random>.<mac>`. Its D1 row is keyed by the token's
 * SHA-256 like any session's; the user id lets the second step go straight to
 * that user's guard, which holds the half session (src/guard/half-sessions.ts),
 * without reading D1 first. The MAC (HMAC-SHA256, key derived from an
 * ENCRYPTION_KEYS entry) proves the Worker minted the token: a made-up user id
 * never reaches a guard, so nobody can create guards by naming them.
 * The 128 random bits are the session's secret; the MAC adds 256 more that only
 * the key can make.
 */
const MAC_INFO = "edge-2fa half session v1";
const ID = /^[A-Za-z0-9_-]{22}$/;

function signed(userId: string, random: string): string {
  return `${userId}.${random}`;
}

export async function mintHalfToken(env: Env, userId: string): Promise<{ token: string; id: string }> {
  const random = toBase64URL(randomBytes(16));
  const { keyId, mac } = await signWithCurrentKey(env.ENCRYPTION_KEYS, MAC_INFO, signed(userId, random));
  const token = `${keyId}.${userId}.${random}.${mac}`;
  return { token, id: sha256Hex(token) };
}

/** Shaped like a half session's token (four parts); whether it is one of ours is `halfTokenOwner`'s to say. */
export function isHalfToken(token: string): boolean {
  return token.split(".").length === 4;
}

/** The user a half session's token names and the session's id, when our MAC is on it; else null. */
export async function halfTokenOwner(env: Env, token: string): Promise<{ userId: string; id: string } | null> {
  const [keyId, userId, random, mac] = token.split(".");
  if (!keyId || !userId || !random || !mac || !ID.test(userId)) return null;
  const ok = await verifyWithKey(env.ENCRYPTION_KEYS, MAC_INFO, keyId, mac, signed(userId, random));
  return ok ? { userId, id: sha256Hex(token) } : null;
}
