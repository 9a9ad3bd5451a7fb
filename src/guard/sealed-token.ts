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
 *
 * The additional data is the mail's own context, read from the row at
 * delivery, never from beside the ciphertext: the guard's user, the mail's id
 * and its recipient. A seal copied into another account's mail, or its mail
 * readdressed, does not open (docs/security.md R12t). Before that, the seal
 * carried its additional data with it (`aad`, v1), so a copy opened anywhere;
 * such seals, written before the change, still open as they were until their
 * record goes (delivered, or given up after MAIL_GIVE_UP_AFTER, 3 days).
 */
export interface SealedFor {
  userId: string;
  mailId: string;
  to: string;
}

function additionalData({ userId, mailId, to }: SealedFor): string {
  return `email token v2 ${userId} ${mailId} ${to}`;
}

export async function sealToken(env: Pick<Env, "ENCRYPTION_KEYS">, token: string, sealedFor: SealedFor): Promise<SealedToken> {
  const { keyId, box } = await seal(await loadKeyRing(env.ENCRYPTION_KEYS), utf8(token), additionalData(sealedFor));
  return { v: 2, keyId, box: toBase64(box) };
}

/** The mail as it is delivered: the sealed token in place of TOKEN_SLOT. `userId`: the user of the guard that holds the mail. */
export async function unsealIntoText(env: Pick<Env, "ENCRYPTION_KEYS">, mail: OutgoingMail, sealed: string, userId: string | null): Promise<OutgoingMail> {
  const s = JSON.parse(sealed) as SealedToken;
  const aad = s.v === 2 ? additionalData({ userId: userId ?? "", mailId: mail.id, to: mail.to }) : `email token v1 ${s.aad}`;
  const token = new TextDecoder().decode(await open(await loadKeyRing(env.ENCRYPTION_KEYS), s.keyId, fromBase64(s.box), aad));
  return { ...mail, text: mail.text.replaceAll(TOKEN_SLOT, token) };
}
