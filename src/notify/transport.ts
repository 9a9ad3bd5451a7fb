import type { Env } from "../env";

export interface OutgoingMail {
  /** The outbox id: the same on every retry, so a provider or a reader can tell a redelivery apart. */
  id: string;
  to: string;
  subject: string;
  text: string;
}

/** The outbox id travels in this header. Email Service accepts any `X-` header, never `Message-ID`. */
export const OUTBOX_ID_HEADER = "X-Outbox-Id";

/**
 * The one place an email leaves the service: Cloudflare's `send_email` binding
 * (Email Service, `env.EMAIL.send({from, to, subject, text})`). Under
 * `wrangler dev` the same binding logs the message and writes it to a file.
 *
 * It resolves when the provider accepted the message and throws otherwise;
 * the outbox (src/guard/flush.ts) retries a throw with backoff. To use
 * another provider, change only this function (docs/email.md): keep it
 * throwing on failure and never log the message body.
 *
 * Email Service generates `Message-ID` itself and rejects it in `headers`
 * (E_HEADER_NOT_ALLOWED), so the outbox id goes in an `X-` header instead.
 */
export async function deliver(env: Env, mail: OutgoingMail): Promise<void> {
  await env.EMAIL.send({
    from: env.MAIL_FROM,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    headers: { [OUTBOX_ID_HEADER]: mail.id },
  });
}
