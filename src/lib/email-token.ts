import { toBase64URL } from "./encoding";
import { randomBytes } from "./random";
import { sha256Hex } from "./sha256";

/**
 * The single-use tokens emailed in links (verify the email, reset the
 * password, a device link, an invitation): `<userId>.<secret>`, the secret 256
 * random bits in base64url. The user id names the guard that holds the
 * token's hash, so the Worker knows whom to ask; only the SHA-256 of the secret
 * is ever stored (a 256-bit secret needs no salt or stretching).
 */
const SECRET_BYTES = 32;
/** Ids are 128 random bits in base64url (src/lib/random.ts): 22 characters. */
const ID = /^[A-Za-z0-9_-]{22}$/;
/** 32 bytes in base64url without padding: 43 characters. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newSecret(): string {
  return toBase64URL(randomBytes(SECRET_BYTES));
}

export function secretHash(secret: string): string {
  return sha256Hex(secret);
}

export function formatToken(userId: string, secret: string): string {
  return `${userId}.${secret}`;
}

/** The user and the secret's hash, or null when the token is not shaped like one of ours. */
export function parseToken(token: string): { userId: string; hash: string } | null {
  const dot = token.indexOf(".");
  if (dot < 0) return null;
  const userId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!ID.test(userId) || !SECRET.test(secret)) return null;
  return { userId, hash: secretHash(secret) };
}

/**
 * Where the token goes in an email's text until it is delivered: the text
 * recorded in the guard and in D1's outbox holds this mark, never the token
 * (src/guard/flush.ts puts the token in at delivery). Names can never hold a
 * control character (src/http/schemas.ts), so no name can forge the mark.
 */
export const TOKEN_SLOT = "\u0000token\u0000";
/** What D1's outbox keeps in the token's place. */
export const TOKEN_REDACTED = "[link removed from this copy]";
