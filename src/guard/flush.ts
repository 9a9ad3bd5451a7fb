import type { Env } from "../env";
import type { Statement } from "../lib/statement";
import { deliver, type OutgoingMail } from "../notify/transport";
import { unsealIntoText } from "./sealed-token";

/**
 * The second half of a change that touches both stores: what src/guard/effects.ts
 * recorded in the guard's `pending` table is written to D1 and handed to the
 * mail transport here, and retried with backoff until both are done.
 */
interface PendingRow {
  id: string;
  statements: string;
  mail: string | null;
  d1_done: number;
  /** 0, or when the provider accepted the message. */
  mail_done: number;
  attempts: number;
  next_at: number;
  sealed_secret: string | null;
  [key: string]: SqlStorageValue;
}

/** Backoff for a failed write or delivery: 2 s, 4 s, 8 s … up to an hour; never given up. */
export function retryDelay(attempts: number): number {
  return Math.min(3_600_000, 2_000 * 2 ** Math.min(attempts, 11));
}

/**
 * What a failure is stored as (pending.last_error, outbox.last_error): the
 * error's class alone, fixed text from the code. Never its message: a driver
 * or a mail provider may quote what it was given (a code, a cookie, an
 * address), and a stored message is as readable as a logged one.
 */
function reasonOf(err: unknown): string {
  return err instanceof Error ? err.constructor.name : "unknown error";
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
export async function flushEffects(sql: SqlStorage, env: Env, now: number, requestId?: string): Promise<void> {
  const fail = (row: PendingRow, err: unknown) => retryLater(sql, row, err, requestId);
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
        blockedUntil = fail(row, err);
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
        await deliver(env, row.sealed_secret ? await unsealIntoText(env, mail, row.sealed_secret) : mail);
      } catch (err) {
        fail(row, err);
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
      fail(row, err);
    }
  }
}

/**
 * Schedules a retry of one record with backoff; returns when. Its log line
 * names the record and the request (or none: the alarm's flush), never the
 * error or the change.
 */
function retryLater(sql: SqlStorage, row: PendingRow, err: unknown, requestId: string | undefined): number {
  const attempts = row.attempts + 1;
  const next = Date.now() + retryDelay(attempts);
  sql.exec("UPDATE pending SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?", attempts, next, reasonOf(err), row.id);
  console.warn(`guard: pending record ${row.id} failed (attempt ${attempts}); will retry (request ${requestId ?? "none"})`);
  return next;
}
