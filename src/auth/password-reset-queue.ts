import type { Env } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOnBehalfOf, type RequestOrigin } from "../http/caller";
import { Email } from "../http/schemas";
import { z } from "../http/zod";
import { CATALOGUES, type Lang, storedLang } from "../notify/language";
import { passwordResetMail } from "../notify/templates";
import { findUserByEmail } from "./store";

/**
 * Password resets go through a queue (wrangler.toml `PASSWORD_RESETS`) so that
 * the request's answer cannot depend on the email: the route does the same
 * for every email (throttle, one message, 202), and everything that differs
 * for an account (the D1 lookup, the guard sealing a token, recording and
 * sending the email) happens here, in another invocation, after the answer
 * (docs/security.md "Password reset by email: nothing to time").
 *
 * A message holds what the link's email needs and nothing secret: the token is
 * minted by the user's guard when the message is handled. Nor does it hold the
 * requester's address or browser: the email names neither and issuing a link
 * records no event, so they would only be personal data waiting in a queue.
 */
export const ResetRequest = z.object({
  email: Email,
  /** The language the request asked for; the account's stored one comes first (docs/email.md "Which language"). */
  lang: z.enum(Object.keys(CATALOGUES) as [Lang, ...Lang[]]),
  /** Where the link points: the deployment's public origin, chosen by the route (src/http/public-origin.ts). */
  origin: z.string().min(1).max(2048),
  /** When it was asked (epoch ms): the time the email names. */
  at: z.number().int().nonnegative(),
  /** The request's id (X-Request-Id), named in the log lines of the work it causes. */
  requestId: z.string().min(1).max(200),
});
export type ResetRequest = z.infer<typeof ResetRequest>;

/** The message for one request, known email or not. */
export function resetRequest(email: string, origin: string, from: Pick<RequestOrigin, "lang" | "requestId">, at: number): ResetRequest {
  return { email, lang: from.lang, origin, at, requestId: from.requestId };
}

/** Enqueued as JSON: the same kind of message for every email, readable when inspecting the queue. */
export async function enqueueReset(env: Env, request: ResetRequest): Promise<void> {
  await env.PASSWORD_RESETS.send(request, { contentType: "json" });
}

/**
 * For an account: a new reset link, issued by its guard as any token is (the
 * newer link replaces the older). For an unknown email: nothing. The token's
 * 30 minutes start when it is issued (`now`), not when it was asked.
 */
export async function issueResetLink(env: Env, request: ResetRequest, now: number): Promise<"issued" | "no_account"> {
  const user = await findUserByEmail(env.DB, request.email);
  if (!user) return "no_account";
  const who = { id: user.id, email: user.email, name: user.name };
  // Whoever asked need not be the owner: the link goes in the owner's stored language, else the request's.
  const caller = callerOnBehalfOf({ ...request, ip: null, userAgent: null }, who, storedLang(user.lang), now);
  const content = passwordResetMail({ origin: request.origin, at: request.at }, caller.lang ?? request.lang);
  await guardFor(env, user.id).issueToken(caller, "password_reset", { ...content, template: "password_reset_link" });
  return "issued";
}

/** Seconds before a failed message is tried again: 5, 10, 20, 40 (wrangler.toml max_retries = 4). */
export function retryDelay(attempts: number): number {
  return Math.min(5 * 2 ** Math.max(0, attempts - 1), 300);
}

/**
 * The Worker's queue() handler for `edge-2fa-password-resets`. Each message
 * is acked or retried on its own, so one failure does not replay the others.
 * A retry after the link was already issued (the guard answered, the ack was
 * lost) issues a newer link, which replaces the older: the person gets two
 * emails and the later one works. Mail delivery itself is retried by the
 * guard's outbox (src/guard/flush.ts), so a transport failure is not a
 * message failure. A body that does not parse can never succeed: dropped and
 * logged.
 */
export async function handleResetBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = ResetRequest.safeParse(message.body);
      if (!parsed.success) {
        console.error(`password reset: message ${message.id} is not a reset request; dropped`);
        message.ack();
        return;
      }
      try {
        await issueResetLink(env, parsed.data, Date.now());
        message.ack();
      } catch (err) {
        const why = err instanceof Error ? err.constructor.name : "unknown error";
        console.warn(`password reset: ${why} on attempt ${message.attempts}; will retry (request ${parsed.data.requestId})`);
        message.retry({ delaySeconds: retryDelay(message.attempts) });
      }
    }),
  );
}
