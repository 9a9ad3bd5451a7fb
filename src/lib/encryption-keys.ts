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

/** The entries of ENCRYPTION_KEYS, current first; throws on a key of the wrong size or none at all. */
export function parseEncryptionKeys(spec: string): EncryptionKey[] {
  const entries: EncryptionKey[] = [];
  for (const entry of spec.split(",")) {
    const [id, b64] = entry.trim().split(":");
    if (!id || !b64) continue;
    const raw = fromBase64(b64);
    if (raw.length !== 32) throw new Error(`encryption key ${id} must be 32 bytes`);
    entries.push({ id, raw });
  }
  if (entries.length === 0) throw new Error("ENCRYPTION_KEYS holds no key");
  return entries;
}
