import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import { fromBase64URL, toBase64URL, utf8 } from "../../lib/encoding";
import type { RelyingParty } from "./relying-party";
import { CHALLENGE_TTL_MS, type CredentialDescriptor, consumeChallenge, findCredential, readClientData, recordUse } from "./store";

/** Request options for `navigator.credentials.get()`: this user's keys only. */
export function authenticationOptions(rp: RelyingParty, challenge: string, keys: CredentialDescriptor[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.id,
    allowCredentials: keys,
    challenge: fromBase64URL(challenge),
    timeout: CHALLENGE_TTL_MS,
    userVerification: "preferred",
  });
}

/** A verified signature, not yet accepted: the sign counter is judged by `acceptAssertion`. */
export type AssertionCheck = { ok: true; credentialId: string; seen: number; backedUp: boolean } | { ok: false; reason: "invalid" };

export type AssertionAcceptance =
  | { ok: true; id: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "counter"; id: string; name: string; stored: number; seen: number };

/**
 * WebAuthn §7.2 (Verifying an Authentication Assertion) for a user already
 * known from the password step, up to and including the signature, over a
 * challenge issued to the same half session (§13.4.3).
 *
 * Order matters (docs/architecture.md "Platform facts"): the challenge is claimed synchronously, before
 * anything is awaited, so one assertion succeeds at most once even when sent
 * many times in parallel. The signature is verified afterwards. Nothing is
 * written after the await: the caller re-checks its own state (the lock) and
 * then calls `acceptAssertion`, synchronously.
 */
export async function verifyAssertion(
  sql: SqlStorage,
  /** `session`: the half session answering; only a challenge issued to it is claimed. */
  input: { response: unknown; rp: RelyingParty; userId: string; session: string | null; now: number },
): Promise<AssertionCheck> {
  const client = readClientData(input.response);
  if (client === null || input.session === null || !consumeChallenge(sql, client.challenge, "authentication", input.session, input.now)) {
    return { ok: false, reason: "invalid" };
  }
  // Claimed, then refused: a framed answer spends its challenge like any other that fails.
  if (client.framed) return { ok: false, reason: "invalid" };
  const challenge = client.challenge;
  const response = input.response as AuthenticationResponseJSON;
  const row = typeof response.id === "string" ? findCredential(sql, response.id) : undefined;
  if (!row) return { ok: false, reason: "invalid" };
  // §7.2 step 6: a user handle, when sent, must name the user who owns the key.
  const handle = (response.response as { userHandle?: unknown } | undefined)?.userHandle;
  if (handle !== undefined && handle !== null && handle !== "" && handle !== toBase64URL(utf8(input.userId))) return { ok: false, reason: "invalid" };
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: input.rp.origins,
      expectedRPID: input.rp.id,
      credential: { id: row.credential_id, publicKey: new Uint8Array(row.public_key), counter: 0 },
      requireUserVerification: false,
    });
    if (!result.verified) return { ok: false, reason: "invalid" };
    return { ok: true, credentialId: row.credential_id, seen: result.authenticationInfo.newCounter, backedUp: result.authenticationInfo.credentialBackedUp };
  } catch {
    return { ok: false, reason: "invalid" };
  }
}

/**
 * Synchronous: judges the sign counter (§6.1.1, §7.2 step 22) against the count
 * as it is now (another login may have moved it while the signature was
 * checked) and records the use. The library got a stored count of 0, which
 * never refuses. If either count is non-zero the new one must be greater;
 * otherwise the key may have been cloned, and the login is refused.
 */
export function acceptAssertion(sql: SqlStorage, check: Extract<AssertionCheck, { ok: true }>, now: number): AssertionAcceptance {
  const current = findCredential(sql, check.credentialId);
  if (!current) return { ok: false, reason: "invalid" }; // removed while we verified
  if ((check.seen > 0 || current.counter > 0) && check.seen <= current.counter) {
    return { ok: false, reason: "counter", id: current.id, name: current.name, stored: current.counter, seen: check.seen };
  }
  recordUse(sql, current.id, check.seen, check.backedUp, now);
  return { ok: true, id: current.id };
}
