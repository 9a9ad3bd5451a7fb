import { type EventType, eventStatement, type SecurityEvent, securityEvent } from "../audit/events";
import { TOKEN_REDACTED, TOKEN_SLOT } from "../lib/email-token";
import { newId } from "../lib/random";
import type { Statement } from "../lib/statement";
import type { BucketPolicy } from "../lib/token-bucket";
import type { Lang } from "../notify/language";
import { type MailActor, mailFor } from "../notify/templates";
import type { OutgoingMail } from "../notify/transport";
import { readState, takeFromStateBucket } from "./state";
import type { Caller } from "./types";

/**
 * Changes that touch both stores (docs/architecture.md "Changes that touch
 * both stores"): the guard applies a change in one synchronous step and, in
 * the same step, records here what D1 and the mailbox must learn. The flush
 * (src/guard/flush.ts) then writes D1 (idempotent statements, one batch) and
 * sends the email; the alarm retries whatever is left, so a crash between the
 * two loses nothing.
 */
export interface Effect {
  statements: Statement[];
  events?: SecurityEvent[];
  /** The email, if any, goes to this address about the first event that has a template. */
  mailTo?: string;
  /**
   * The language of that email (docs/email.md "Which language"); when absent,
   * the committing caller's (`Caller.lang`).
   */
  lang?: Lang;
  /** An admin who acted on the user's account, named in the email as data. */
  actor?: MailActor;
  /** An email that is not about an event of this user's (an invitation, a notice to another admin), already written in its reader's language. */
  mail?: { to: string; subject: string; text: string; template: string; userId: string | null; id?: string };
  /**
   * The token the email's link carries, sealed (src/guard/sealed-token.ts): the
   * text holds TOKEN_SLOT in its place until delivery, and D1's outbox copy
   * says TOKEN_REDACTED there, so the token is at rest nowhere in clear.
   */
  sealed?: SealedToken;
}

/** A token encrypted with the ENCRYPTION_KEYS ring (AES-GCM), bound to the mail it belongs to (src/guard/sealed-token.ts). */
export interface SealedToken {
  /** 2: bound to the guard's user, the mail's id and recipient. Absent: a seal from before (v1). */
  v?: 2;
  keyId: string;
  /** base64: 12-byte IV then ciphertext. */
  box: string;
  /** v1 only: the additional data it was sealed with, kept beside it. */
  aad?: string;
}

/** What a synchronous step decided, and what it must record for D1 and the mailbox (null: nothing). */
export interface Change<T> {
  result: T;
  effect: Effect | null;
}

/** An event the user caused, at the caller's time and from the caller's address. */
export function eventBy(caller: Caller, type: EventType, data?: SecurityEvent["data"]): SecurityEvent {
  return securityEvent(type, caller.user.id, caller, caller.now, data ? { data } : {});
}

/**
 * An event in the user's log that `actorId` caused (an admin, the operator).
 * When that is someone else, it names them and says when, never from where:
 * the request's address and browser are the other person's, not the user's to
 * see (docs/security.md R10c, R10f). The user's own act is `eventBy`'s.
 */
export function eventCausedBy(caller: Caller, actorId: string, type: EventType, data?: SecurityEvent["data"]): SecurityEvent {
  if (actorId === caller.user.id) return eventBy(caller, type, data);
  return securityEvent(type, caller.user.id, { ip: null, userAgent: null }, caller.now, data ? { actorId, data } : { actorId });
}

function outboxStatement(mail: OutgoingMail, userId: string, template: string, now: number): Statement {
  return {
    sql: `INSERT OR IGNORE INTO outbox (id, user_id, recipient, template, subject, body, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`,
    params: [mail.id, userId, mail.to, template, mail.subject, mail.text.replaceAll(TOKEN_SLOT, TOKEN_REDACTED), now],
  };
}

/**
 * Security emails to the user's own address while it is not proven: 10, then one every 10 minutes. Logging in
 * and changing things need no proven address, so whoever made the account with someone else's address had
 * that address mailed once per change, as often as they cared to change something (docs/security.md R9i).
 * Past it the change is still logged; only its email is not sent. A proven address hears of every change.
 */
export const UNPROVEN_MAIL_POLICY: BucketPolicy = { capacity: 10, refillMs: 10 * 60_000 };

/** Whether a security email may go to the user's own address now; takes a token while the address is unproven. */
function mayMailUser(sql: SqlStorage, now: number): boolean {
  return readState(sql).email_verified === 1 || takeFromStateBucket(sql, "mail", UNPROVEN_MAIL_POLICY, now).ok;
}

/**
 * Synchronous: call it inside the same step that applies the change. One
 * pending row per effect. The email is written now, in `lang` (unless the
 * effect names its own), and stored as text: a retry sends the same words.
 */
export function recordEffect(sql: SqlStorage, effect: Effect, now: number, lang: Lang): void {
  const statements = [...effect.statements];
  for (const e of effect.events ?? []) statements.push(eventStatement(e));
  // The template travels with the pending mail only to name its kind should it be given up (src/guard/flush.ts).
  let mail: (OutgoingMail & { template: string }) | null = null;
  if (effect.mail) {
    const { to, subject, text, template, userId } = effect.mail;
    mail = { id: effect.mail.id ?? newId(), to, subject, text, template };
    statements.push(outboxStatement(mail, userId ?? "", template, now));
  } else if (effect.mailTo) {
    for (const e of effect.events ?? []) {
      const content = mailFor(e, effect.lang ?? lang, effect.actor ? { actor: effect.actor } : {});
      if (content) {
        if (!mayMailUser(sql, now)) break;
        mail = { id: newId(), to: effect.mailTo, ...content, template: e.type };
        statements.push(outboxStatement(mail, e.userId, e.type, now));
        break;
      }
    }
  }
  if (statements.length === 0) return;
  sql.exec(
    "INSERT INTO pending (id, created_at, statements, mail, next_at, sealed_secret) VALUES (?, ?, ?, ?, ?, ?)",
    newId(),
    now,
    JSON.stringify(statements),
    mail ? JSON.stringify(mail) : null,
    now,
    mail && effect.sealed ? JSON.stringify(effect.sealed) : null,
  );
}
