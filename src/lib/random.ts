import { toBase64URL } from "./encoding";

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Opaque ids: 128 random bits, URL-safe. */
export function newId(): string {
  return toBase64URL(randomBytes(16));
}
