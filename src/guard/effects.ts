import { eventStatement, type SecurityEvent } from "../audit/events";
import type { Env } from "../env";
import { newId } from "../lib/random";
import { mailFor } from "../notify/templates";
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
  actorName?: string;
}

interface PendingRow {
  id: string;
  statements: string;
  mail: string | null;
  d1_done: number;
  mail_done: number;
  attempts: number;
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
      const content = mailFor(e, { actorName: effect.actorName });
      if (content) {
        mail = { id: newId(), to: effect.mailTo, ...content };
        statements.push(outboxStatement(mail, e.userId, e.type, now));
        break;
      }
    }
  }
  if (statements.length === 0) return;
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
  sql.exec(
    "INSERT INTO pending (id, created_at, statements, mail, next_at) VALUES (?, ?, ?, ?, ?)",
    newId(),
    now,
    JSON.stringify(statements),
    JSON.stringify(full),
    now,
  );
}

/** Backoff for a failed write or delivery: 2 s, 4 s, 8 s … up to an hour; never given up. */
export function retryDelay(attempts: number): number {
  return Math.min(3_600_000, 2_000 * 2 ** Math.min(attempts, 11));
}

/** Applies every due pending record; returns how many are still left. */
export async function flushEffects(sql: SqlStorage, env: Env, now: number): Promise<void> {
  const due = sql.exec<PendingRow>("SELECT * FROM pending WHERE next_at <= ? ORDER BY created_at", now).toArray();
  for (const row of due) {
    try {
      if (!row.d1_done) {
        const statements = JSON.parse(row.statements) as Statement[];
        if (statements.length > 0) await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
        sql.exec("UPDATE pending SET d1_done = 1 WHERE id = ?", row.id);
      }
      if (row.mail && !row.mail_done) {
        const mail = JSON.parse(row.mail) as OutgoingMail;
        await deliver(env, mail);
        sql.exec("UPDATE pending SET mail_done = 1 WHERE id = ?", row.id);
        await env.DB.prepare("UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?").bind(Date.now(), mail.id).run();
      }
      sql.exec("DELETE FROM pending WHERE id = ?", row.id);
    } catch (err) {
      const attempts = row.attempts + 1;
      // Only the error's class and a short message: never a payload, which may name a user.
      const reason = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : "unknown error";
      sql.exec("UPDATE pending SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?", attempts, Date.now() + retryDelay(attempts), reason, row.id);
      console.warn(`guard: pending record ${row.id} failed (attempt ${attempts}); will retry`);
    }
  }
}
