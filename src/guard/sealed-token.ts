import type { Env } from "../env";
import { loadKeyRing, open, seal } from "../factors/totp/secret-box";
import { TOKEN_SLOT } from "../lib/email-token";
import { fromBase64, toBase64, utf8 } from "../lib/encoding";
import type { OutgoingMail } from "../notify/transport";
import type { SealedToken } from "./effects";

/**
 * A token on its way to its email: sealed with the ENCRYPTION_KEYS ring (as
 * TOTP secrets are) before the step that records the email, opened only to
 * put it into the text handed to the transport. The guard's `pending` row and
 * D1's outbox never hold it in clear (test/secrets.security.test.ts).
 */
export async function sealToken(env: Pick<Env, "ENCRYPTION_KEYS">, token: string, aad: string): Promise<SealedToken> {
  const { keyId, box } = await seal(await loadKeyRing(env.ENCRYPTION_KEYS), utf8(token), `email token v1 ${aad}`);
  return { keyId, box: toBase64(box), aad };
}

/** The mail as it is delivered: the sealed token in place of TOKEN_SLOT. */
export async function unsealIntoText(env: Pick<Env, "ENCRYPTION_KEYS">, mail: OutgoingMail, sealed: string): Promise<OutgoingMail> {
  const s = JSON.parse(sealed) as SealedToken;
  const token = new TextDecoder().decode(await open(await loadKeyRing(env.ENCRYPTION_KEYS), s.keyId, fromBase64(s.box), `email token v1 ${s.aad}`));
  return { ...mail, text: mail.text.replaceAll(TOKEN_SLOT, token) };
}
