import { eventStatement, type SecurityEvent } from "../audit/events";
import type { Env } from "../env";
import { newId } from "../lib/random";
import { type MailActor, mailFor } from "../notify/templates";
import { deliver, type OutgoingMail } from "../notify/transport";

/**
 * Changes that touch both stores (DESIGN.md): the guard applies a change in one
 * synchronous step and, in the same step, records here what D1 and the user's
 * mailbox must learn. `flush` then writes D1 (idempotent statements, one
 * batch) and sends the email; the alarm retries whatever is left, so a crash
 * between the two loses nothing.
 */
export type SqlValue = string | number | null;
export interface Statement {
  sql: string;
  params: SqlValue[];
}

export interface Effect {
  statements: Statement[];
  events?: SecurityEvent[];
  /** The email, if any, goes to this address about the first event that has a template. */
  mailTo?: string;
  /** An admin who acted on the user's account, named in the email as data. */
  actor?: MailActor;
}

interface PendingRow {
  id: string;
  statements: string;
  mail: string | null;
  d1_done: number;
  /** 0, or when the provider accepted the message. */
  mail_done: number;
  attempts: number;
  next_at: number;
  [key: string]: SqlStorageValue;
}

function outboxStatement(mail: OutgoingMail, userId: string, template: string, now: number): Statement {
  return {
    sql: `INSERT OR IGNORE INTO outbox (id, user_id, recipient, template, subject, body, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)`,
    params: [mail.id, userId, mail.to, template, mail.subject, mail.text, now],
  };
}

/** Synchronous: call it inside the same step that applies the change. */
export function recordEffect(sql: SqlStorage, effect: Effect, now: number): void {
  const statements = [...effect.statements];
  for (const e of effect.events ?? []) statements.push(eventStatement(e));
  let mail: OutgoingMail | null = null;
  if (effect.mailTo) {
    for (const e of effect.events ?? []) {
      const content = mailFor(e, effect.actor ? { actor: effect.actor } : {});
      if (content) {
        mail = { id: newId(), to: effect.mailTo, ...content };
        statements.push(outboxStatement(mail, e.userId, e.type, now));
        break;
      }
    }
  }
  if (statements.length === 0) return;
  insertPending(sql, statements, mail, now);
}

function insertPending(sql: SqlStorage, statements: Statement[], mail: OutgoingMail | null, now: number): void {
  sql.exec(
    "INSERT INTO pending (id, created_at, statements, mail, next_at) VALUES (?, ?, ?, ?, ?)",
    newId(),
    now,
    JSON.stringify(statements),
    mail ? JSON.stringify(mail) : null,
    now,
  );
}

/** Records an email that is not about a security event (an invitation). */
export function recordMail(
  sql: SqlStorage,
  mail: Omit<OutgoingMail, "id">,
  meta: { userId: string | null; template: string },
  now: number,
  extra: Statement[] = [],
): void {
  const full: OutgoingMail = { id: newId(), ...mail };
  const statements = [...extra, outboxStatement(full, meta.userId ?? "", meta.template, now)];
  insertPending(sql, statements, full, now);
}

/** Backoff for a failed write or delivery: 2 s, 4 s, 8 s … up to an hour; never given up. */
export function retryDelay(attempts: number): number {
  return Math.min(3_600_000, 2_000 * 2 ** Math.min(attempts, 11));
}

/** Only the error's class and a short message: never a payload, which may name a user. */
function reasonOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : "unknown error";
}

/**
 * Applies what is pending, oldest first (rowid order), and deletes each record
 * once both its D1 part and its email are done.
 *
 * D1 parts are applied strictly in order and are always tried: a reset's
 * "delete every method" must never land after the re-enrollment that followed
 * it. The first D1 failure stops the D1 parts behind it (they inherit its retry
 * time, so the alarm does not spin on them).
 *
 * Emails go out only after their own record's D1 part (the outbox row must exist
 * to be marked sent), each on its own backoff: one undeliverable message never
 * holds up D1 or the other messages. A message is sent at least once; its
 * outbox id travels with it (OUTBOX_ID_HEADER) so a duplicate can be recognised.
 */
export async function flushEffects(sql: SqlStorage, env: Env, now: number): Promise<void> {
  const rows = sql.exec<PendingRow>("SELECT * FROM pending ORDER BY rowid").toArray();
  let blockedUntil: number | null = null;
  for (const row of rows) {
    if (!row.d1_done) {
      if (blockedUntil !== null) {
        if (row.next_at < blockedUntil) sql.exec("UPDATE pending SET next_at = ? WHERE id = ?", blockedUntil, row.id);
        continue;
      }
      try {
        const statements = JSON.parse(row.statements) as Statement[];
        if (statements.length > 0) await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
        sql.exec("UPDATE pending SET d1_done = 1 WHERE id = ?", row.id);
      } catch (err) {
        blockedUntil = fail(sql, row, err);
        continue;
      }
    }
    if (!row.mail) {
      sql.exec("DELETE FROM pending WHERE id = ?", row.id);
      continue;
    }
    const mail = JSON.parse(row.mail) as OutgoingMail;
    if (!row.mail_done) {
      // A record that just had its D1 part applied is due; one waiting for a retry is not.
      if (row.d1_done && row.next_at > now) continue;
      try {
        await deliver(env, mail);
      } catch (err) {
        fail(sql, row, err);
        // Best effort: the outbox row shows the failure too; the pending record is what retries.
        await env.DB.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ? AND sent_at IS NULL")
          .bind(reasonOf(err), mail.id)
          .run()
          .catch(() => undefined);
        continue;
      }
      // mail_done holds the time it was sent, so marking the outbox row can be retried alone.
      row.mail_done = Date.now();
      sql.exec("UPDATE pending SET mail_done = ? WHERE id = ?", row.mail_done, row.id);
    }
    try {
      await env.DB.prepare("UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ? AND sent_at IS NULL")
        .bind(row.mail_done, mail.id)
        .run();
      sql.exec("DELETE FROM pending WHERE id = ?", row.id);
    } catch (err) {
      fail(sql, row, err);
    }
  }
}

/** Schedules a retry of one record with backoff; returns when. */
function fail(sql: SqlStorage, row: PendingRow, err: unknown): number {
  const attempts = row.attempts + 1;
  const next = Date.now() + retryDelay(attempts);
  sql.exec("UPDATE pending SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?", attempts, next, reasonOf(err), row.id);
  console.warn(`guard: pending record ${row.id} failed (attempt ${attempts}); will retry`);
  return next;
}
