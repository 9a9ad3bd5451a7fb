import { utf8 } from "./encoding";

/**
 * An HMAC-SHA256 key derived with HKDF from an ENCRYPTION_KEYS entry
 * (src/lib/encryption-keys.ts), one per purpose (`info`): a MAC made for one
 * kind of token is worthless as another's, and one rotation covers them all.
 */
export async function macKey(raw: Uint8Array, info: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}
