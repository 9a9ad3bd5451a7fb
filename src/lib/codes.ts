import { randomBytes } from "./random";

/**
 * Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied
 * by hand cannot be confused. Decoding folds i/l to 1 and o to 0.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A random code of `groups` groups of `size` characters, 5 bits each, joined by dashes. */
export function generateGroupedCode(groups: number, size: number): string {
  const chars = groups * size;
  const bytes = randomBytes(chars);
  let out = "";
  for (let i = 0; i < chars; i++) {
    if (i > 0 && i % size === 0) out += "-";
    // 256 is a multiple of 32, so the low five bits are uniform.
    out += ALPHABET[(bytes[i] as number) & 31];
  }
  return out;
}

/**
 * The canonical form a code is hashed in: case, spaces and dashes do not matter,
 * and the look-alike letters Crockford folds are folded. Returns null for input
 * that can never be a code, so it is refused without touching storage.
 */
export function normalizeCode(input: string, length: number): string | null {
  const folded = input.trim().toLowerCase().replace(/[\s-]/g, "").replace(/[il]/g, "1").replace(/o/g, "0");
  if (folded.length !== length) return null;
  for (const ch of folded) if (!ALPHABET.includes(ch)) return null;
  return folded;
}
