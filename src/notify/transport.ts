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
 * Thrown by `deliver` when the provider says this message can never reach its
 * recipient, so sending it again is pointless: the outbox gives it up at once
 * instead of retrying (docs/email.md "Retries"). Any other throw is a failure
 * for now, retried for a bounded time.
 */
export class Undeliverable extends Error {}

/**
 * Email Service's error codes (`err.code`) that say this recipient will never
 * get the message: the address bounced for good or complained before and is
 * on the suppression list. Everything else is retried: `E_DELIVERY_FAILED`
 * ("SMTP delivery failure, recipient server rejection"), which may be a
 * temporary refusal (a hard bounce puts the address on the suppression list,
 * so the next attempt says so for good), a sender or domain not yet set up, a
 * recipient outside `allowed_destination_addresses`, a rate or daily limit,
 * the service down, a payload we got wrong. Those clear, or are ours or the
 * operator's to fix, and the messages should go out once they are.
 */
const PERMANENT_CODES: ReadonlySet<unknown> = new Set(["E_RECIPIENT_SUPPRESSED"]);

/**
 * The one place an email leaves the service: Cloudflare's `send_email` binding
 * (Email Service, `env.EMAIL.send({from, to, subject, text})`). Under
 * `wrangler dev` the same binding logs the message and writes it to a file;
 * its only failure there, a sender outside `allowed_sender_addresses`, has no
 * code and counts as one for now.
 *
 * It resolves when the provider accepted the message, throws `Undeliverable`
 * when it never will, and throws anything else otherwise; the outbox
 * (src/guard/flush.ts) retries the latter with backoff. To use another
 * provider, change only this function (docs/email.md): keep that contract and
 * never log the message body.
 *
 * Email Service generates `Message-ID` itself and rejects it in `headers`
 * (E_HEADER_NOT_ALLOWED), so the outbox id goes in an `X-` header instead.
 */
export async function deliver(env: Env, mail: OutgoingMail): Promise<void> {
  try {
    await env.EMAIL.send({
      from: env.MAIL_FROM,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      headers: { [OUTBOX_ID_HEADER]: mail.id },
    });
  } catch (err) {
    // Not the provider's message: it may quote the address.
    if (PERMANENT_CODES.has((err as { code?: unknown } | null)?.code)) throw new Undeliverable("the provider will never deliver this message");
    throw err;
  }
}
