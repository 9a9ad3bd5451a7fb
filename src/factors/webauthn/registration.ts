import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { COSEALG } from "@simplewebauthn/server/helpers";
import { fromBase64URL, utf8 } from "../../lib/encoding";
import type { RelyingParty } from "./relying-party";
import { CHALLENGE_TTL_MS, type CredentialDescriptor, consumeChallenge, type NewCredential, readClientData } from "./store";

/** ES256 (nearly every key), RS256 (Windows Hello), EdDSA (newer keys); the order is the preference. */
export const ALGORITHMS = [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256];

/**
 * Creation options for `navigator.credentials.create()`. The user handle is
 * the opaque user id (never the email: §14.6.1 says it must not carry personal
 * data), stable across keys so a passkey provider replaces rather than
 * duplicates. Existing keys are excluded so an authenticator already
 * registered refuses to make a second credential (§5.4 excludeCredentials).
 */
export function registrationOptions(
  rp: RelyingParty,
  user: { id: string; email: string; name: string },
  challenge: string,
  existing: CredentialDescriptor[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: new Uint8Array(utf8(user.id)),
    userName: user.email,
    userDisplayName: user.name,
    challenge: fromBase64URL(challenge),
    timeout: CHALLENGE_TTL_MS,
    attestationType: "none",
    excludeCredentials: existing,
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/**
 * WebAuthn §7.1: a credential id over 1023 bytes should fail the ceremony. With `none` attestation the client
 * chooses the id and the COSE key bytes alike, and both are stored (guard and D1) and the id sent back in every
 * options, so neither is taken at any size (docs/security.md R11a). 2048 bytes hold any key an authenticator
 * makes: ES256 77, EdDSA 42, RS256 about 270 at 2048 bits and 1,050 at 8192.
 */
export const MAX_CREDENTIAL_ID_BYTES = 1023;
export const MAX_PUBLIC_KEY_BYTES = 2048;

export type RegistrationCheck = { ok: true; credential: NewCredential } | { ok: false };

/**
 * WebAuthn §7.1 (Registering a New Credential). The challenge the client
 * answers is claimed first, synchronously, so a ceremony response works once
 * even when sent twice at the same time; only then is it verified. User
 * verification is preferred, not required (a second factor after a password);
 * user presence is required.
 */
export async function verifyRegistration(
  sql: SqlStorage,
  /** `session`: the session registering (src/guard/ceremonies.ts); only a challenge issued to it is claimed. */
  input: { response: unknown; rp: RelyingParty; session: string | null; now: number },
): Promise<RegistrationCheck> {
  const client = readClientData(input.response);
  if (client === null || input.session === null || !consumeChallenge(sql, client.challenge, "registration", input.session, input.now)) return { ok: false };
  // Claimed, then refused: the library reads neither crossOrigin nor topOrigin at registration.
  if (client.framed) return { ok: false };
  const challenge = client.challenge;
  try {
    const result = await verifyRegistrationResponse({
      response: input.response as RegistrationResponseJSON,
      expectedChallenge: challenge,
      expectedOrigin: input.rp.origins,
      expectedRPID: input.rp.id,
      requireUserPresence: true,
      requireUserVerification: false,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!result.verified) return { ok: false };
    const info = result.registrationInfo;
    if (fromBase64URL(info.credential.id).length > MAX_CREDENTIAL_ID_BYTES || info.credential.publicKey.length > MAX_PUBLIC_KEY_BYTES) return { ok: false };
    const transports = (input.response as RegistrationResponseJSON).response.transports;
    return {
      ok: true,
      credential: {
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        transports: Array.isArray(transports) ? transports.filter((t) => typeof t === "string" && t.length <= 32).slice(0, 8) : [],
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        aaguid: info.aaguid,
      },
    };
  } catch {
    // The library throws a precise message for every malformed or wrong
    // response; the caller only ever learns "not accepted".
    return { ok: false };
  }
}
