import { utf8 } from "../../lib/encoding";
import { parseEncryptionKeys } from "../../lib/encryption-keys";
import { randomBytes } from "../../lib/random";

/**
 * AES-256-GCM for secrets at rest (TOTP keys). Keys come from the
 * ENCRYPTION_KEYS secret (src/lib/encryption-keys.ts); the first encrypts,
 * every listed key decrypts, so a key can be rotated by putting a new one
 * first. The additional data binds a ciphertext to its user and method: a row
 * copied elsewhere does not decrypt.
 */
const IV_BYTES = 12;

export interface KeyRing {
  currentId: string;
  keys: Map<string, CryptoKey>;
}

export async function loadKeyRing(spec: string): Promise<KeyRing> {
  const entries = parseEncryptionKeys(spec);
  const keys = new Map<string, CryptoKey>();
  for (const { id, raw } of entries) keys.set(id, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  return { currentId: (entries[0] as { id: string }).id, keys };
}

export async function seal(ring: KeyRing, plaintext: Uint8Array, aad: string): Promise<{ keyId: string; box: Uint8Array }> {
  const iv = randomBytes(IV_BYTES);
  const key = ring.keys.get(ring.currentId) as CryptoKey;
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: utf8(aad) }, key, plaintext));
  const box = new Uint8Array(IV_BYTES + ct.length);
  box.set(iv);
  box.set(ct, IV_BYTES);
  return { keyId: ring.currentId, box };
}

export async function open(ring: KeyRing, keyId: string, box: Uint8Array, aad: string): Promise<Uint8Array> {
  const key = ring.keys.get(keyId);
  if (!key) throw new Error(`encryption key ${keyId} is not configured`);
  const iv = box.slice(0, IV_BYTES);
  const ct = box.slice(IV_BYTES);
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(aad) }, key, ct));
}
