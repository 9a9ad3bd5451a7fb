import { fromBase64URL, toBase64URL, toHex, utf8 } from "./encoding";
import { parseEncryptionKeys } from "./encryption-keys";

/**
 * MACs of our own tokens (device cookies, half sessions' tokens): HMAC-SHA256
 * with a key derived by HKDF from an ENCRYPTION_KEYS entry
 * (src/lib/encryption-keys.ts), one per purpose (`info`), so a MAC made for
 * one kind of token is worthless as another's and one rotation covers them
 * all. A token names the key that made its MAC.
 */
async function macKey(raw: Uint8Array, info: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** The MAC of `message` under the current key: the key's id and the MAC in base64url. */
export async function signWithCurrentKey(keys: string, info: string, message: string): Promise<{ keyId: string; mac: string }> {
  const current = parseEncryptionKeys(keys)[0] as { id: string; raw: Uint8Array };
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(current.raw, info), utf8(message)));
  return { keyId: current.id, mac: toBase64URL(mac) };
}

/** Whether `mac` (base64url) is the MAC of `message` under the listed key `keyId`; false for an unknown key or a malformed MAC. */
export async function verifyWithKey(keys: string, info: string, keyId: string, mac: string, message: string): Promise<boolean> {
  const entry = parseEncryptionKeys(keys).find((k) => k.id === keyId);
  if (!entry) return false;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64URL(mac);
  } catch {
    return false;
  }
  // crypto.subtle.verify compares in constant time.
  return crypto.subtle.verify("HMAC", await macKey(entry.raw, info), bytes, utf8(message));
}

/** The id of the current ENCRYPTION_KEYS entry: the one new MACs and keyed hashes are made with. */
export function currentKeyId(keys: string): string {
  return (parseEncryptionKeys(keys)[0] as { id: string }).id;
}

/**
 * HMAC-SHA256 of `message` (hex) under the listed key `keyId`, for a keyed hash stored beside that id
 * (src/lib/code-hash.ts). Throws when the key is no longer listed: what it keyed can no longer be checked.
 */
export async function macHexWithKey(keys: string, info: string, keyId: string, message: string): Promise<string> {
  const entry = parseEncryptionKeys(keys).find((k) => k.id === keyId);
  if (!entry) throw new Error(`encryption key ${keyId} is not configured`);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(entry.raw, info), utf8(message))));
}
