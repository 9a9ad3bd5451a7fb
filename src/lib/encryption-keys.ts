import { fromBase64 } from "./encoding";

/**
 * The ENCRYPTION_KEYS secret: comma-separated `keyId:base64(32 bytes)`, the
 * current key first. The TOTP secret box encrypts with the first and decrypts
 * with any listed one (src/factors/totp/secret-box.ts); device cookies and half
 * sessions' tokens derive their MAC keys from them (src/lib/mac-key.ts), so one
 * rotation covers all of them.
 */
export interface EncryptionKey {
  id: string;
  raw: Uint8Array;
}

/**
 * A key id is written inside tokens (`<key id>.<random>.<mac>`, several joined
 * by `~` in a device cookie) and beside sealed secrets: letters, digits, `_`
 * and `-` only, so no id can split a token where it should not.
 */
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** The entries of ENCRYPTION_KEYS, current first; throws on a malformed id, a key of the wrong size, or none at all. */
export function parseEncryptionKeys(spec: string): EncryptionKey[] {
  const entries: EncryptionKey[] = [];
  for (const entry of spec.split(",")) {
    const [id, b64] = entry.trim().split(":");
    if (!id || !b64) continue;
    if (!KEY_ID.test(id)) throw new Error("an ENCRYPTION_KEYS id may hold only letters, digits, _ and - (at most 32)");
    const raw = fromBase64(b64);
    if (raw.length !== 32) throw new Error(`encryption key ${id} must be 32 bytes`);
    entries.push({ id, raw });
  }
  if (entries.length === 0) throw new Error("ENCRYPTION_KEYS holds no key");
  return entries;
}
