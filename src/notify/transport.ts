import type { Env } from "../env";

export interface OutgoingMail {
  /** The outbox id; sent as the Message-ID so a retried delivery can be told apart downstream. */
  id: string;
  to: string;
  subject: string;
  text: string;
}

/**
 * The one place an email leaves the service. Cloudflare's `send_email` binding
 * (Email Service) in production; under `wrangler dev` the same binding logs
 * the message and writes it to a file. Another provider plugs in here.
 */
export async function deliver(env: Env, mail: OutgoingMail): Promise<void> {
  await env.EMAIL.send({
    from: env.MAIL_FROM,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    headers: { "Message-ID": `<${mail.id}@${env.MAIL_FROM.split("@")[1] ?? "localhost"}>` },
  } as unknown as EmailMessageBuilder);
}
