import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import { fromBase64URL, toBase64URL, utf8 } from "../../lib/encoding";
import type { RelyingParty } from "./config";
import { CHALLENGE_TTL_MS, type CredentialDescriptor, clientChallenge, consumeChallenge, findCredential, recordUse } from "./store";

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

export type AssertionCheck =
  | { ok: true; id: string }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "counter"; id: string; name: string; stored: number; seen: number };

/**
 * WebAuthn §7.2 (Verifying an Authentication Assertion) for a user already
 * known from the password step.
 *
 * Order matters (PLATFORM.md): the challenge is claimed synchronously, before
 * anything is awaited, so one assertion succeeds at most once even when sent
 * many times in parallel. The signature is verified afterwards.
 *
 * The sign counter (§6.1.1, §7.2 step 22) is judged here, not by the library
 * (it gets a stored count of 0, which never refuses): only after the signature
 * is valid, and against the count as it is then, since another login may have
 * moved it meanwhile. If either count is non-zero the new one must be greater;
 * otherwise the key may have been cloned, and the login is refused.
 */
export async function verifyAssertion(sql: SqlStorage, input: { response: unknown; rp: RelyingParty; userId: string; now: number }): Promise<AssertionCheck> {
  const challenge = clientChallenge(input.response);
  if (challenge === null || !consumeChallenge(sql, challenge, "authentication", input.now)) return { ok: false, reason: "invalid" };
  const response = input.response as AuthenticationResponseJSON;
  const row = typeof response.id === "string" ? findCredential(sql, response.id) : undefined;
  if (!row) return { ok: false, reason: "invalid" };
  // §7.2 step 6: a user handle, when sent, must name the user who owns the key.
  const handle = (response.response as { userHandle?: unknown } | undefined)?.userHandle;
  if (handle !== undefined && handle !== null && handle !== "" && handle !== toBase64URL(utf8(input.userId))) return { ok: false, reason: "invalid" };
  let seen: number;
  let backedUp: boolean;
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
    seen = result.authenticationInfo.newCounter;
    backedUp = result.authenticationInfo.credentialBackedUp;
  } catch {
    return { ok: false, reason: "invalid" };
  }
  // Synchronous from here: read the current count and write the new one in one step.
  const current = findCredential(sql, row.credential_id);
  if (!current) return { ok: false, reason: "invalid" }; // removed while we verified
  if ((seen > 0 || current.counter > 0) && seen <= current.counter) {
    return { ok: false, reason: "counter", id: current.id, name: current.name, stored: current.counter, seen };
  }
  recordUse(sql, current.id, seen, backedUp, input.now);
  return { ok: true, id: current.id };
}
