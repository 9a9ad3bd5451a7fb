import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { timingSafeEqual } from "../../lib/constant-time";
import { utf8 } from "../../lib/encoding";

/**
 * HOTP (RFC 4226) and TOTP (RFC 6238), synchronous so the guard can check and
 * claim a step in one step with no await between them.
 */
export type TOTPHash = "SHA1" | "SHA256" | "SHA512";
const HASHES = { SHA1: sha1, SHA256: sha256, SHA512: sha512 } as const;

export const PERIOD_SECONDS = 30;
export const DIGITS = 6;

/** RFC 4226 §5.3: HMAC over the 8-byte big-endian counter, dynamic truncation. */
export function generateHOTP(key: Uint8Array, counter: number, digits = DIGITS, hash: TOTPHash = "SHA1"): string {
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const mac = hmac(HASHES[hash], key, message);
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary =
    (((mac[offset] as number) & 0x7f) << 24) | ((mac[offset + 1] as number) << 16) | ((mac[offset + 2] as number) << 8) | (mac[offset + 3] as number);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** RFC 6238 §4.2: T = floor((now - T0) / X), with T0 = 0 and X = 30 s. */
export function stepAt(nowMs: number, period = PERIOD_SECONDS): number {
  return Math.floor(nowMs / 1000 / period);
}

export function generateTOTP(key: Uint8Array, nowMs: number, digits = DIGITS, hash: TOTPHash = "SHA1"): string {
  return generateHOTP(key, stepAt(nowMs), digits, hash);
}

export type TOTPCheck = { ok: true; step: number } | { ok: false; reason: "malformed" | "mismatch" | "replayed" };

/**
 * Accepts the current step and the one before it (a code typed just as it
 * changed, plus network delay), and nothing else. RFC 6238 §5.2: a code is
 * accepted once, so a step at or before `lastStep` is refused even when right.
 */
export function checkTOTP(key: Uint8Array, input: string, nowMs: number, lastStep: number): TOTPCheck {
  const code = input.trim();
  if (!/^[0-9]{6}$/.test(code)) return { ok: false, reason: "malformed" };
  const current = stepAt(nowMs);
  let matched: number | null = null;
  // Both candidates are always computed and compared, so timing does not tell which matched.
  for (const step of [current, current - 1]) {
    if (timingSafeEqual(utf8(generateHOTP(key, step)), utf8(code)) && matched === null) matched = step;
  }
  if (matched === null) return { ok: false, reason: "mismatch" };
  if (matched <= lastStep) return { ok: false, reason: "replayed" };
  return { ok: true, step: matched };
}
