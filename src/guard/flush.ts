import type { Env } from "../env";
import type { Statement } from "../lib/statement";
import { deliver, type OutgoingMail, Undeliverable } from "../notify/transport";
import { unsealIntoText } from "./sealed-token";
import { readState } from "./state";

/**
 * The second half of a change that touches both stores: what src/guard/effects.ts
 * recorded in the guard's `pending` table is written to D1 and handed to the
 * mail transport here, and retried with backoff until both are done.
 */
interface PendingRow {
  id: string;
  created_at: number;
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

/** The mail part of a record as stored; `template` is absent from records older than it. */
type PendingMail = OutgoingMail & { template?: string };

/** Backoff for a failed write or delivery: 2 s, 4 s, 8 s … up to an hour. */
export function retryDelay(attempts: number): number {
  return Math.min(3_600_000, 2_000 * 2 ** Math.min(attempts, 11));
}

/**
 * The longest wait between two tries of a D1 part. Until it lands, D1 holds what the guard has already undone:
 * sessions a reset, a disable or a new password ended live on in every route that reads only D1, and a changed
 * password's old hash still logs in. The mail's hour-long backoff let them live up to an hour after D1 was back
 * (docs/security.md R13i); D1 parts are never given up, so a short cap costs a retry every half minute, and only
 * for guards that have something waiting while D1 is down.
 */
export const D1_RETRY_MAX_MS = 30_000;

/**
 * A delivery that keeps failing is given up once its record is this old (about
 * 80 attempts, most at the hourly cap): long enough for a provider outage, a daily
 * limit or a sending domain still being set up to clear over a weekend, short
 * enough that an undeliverable address costs bounded work and storage. D1
 * parts are never given up (docs/email.md "Retries").
 */
export const MAIL_GIVE_UP_AFTER = 3 * 24 * 3_600_000;

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
 * once both its D1 part and its email are done, or its email was given up.
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
 * A message the provider will never deliver is given up at its first failure,
 * any other after MAIL_GIVE_UP_AFTER; by then its D1 part has been applied.
 */
export async function flushEffects(sql: SqlStorage, env: Env, now: number, requestId?: string): Promise<void> {
  const fail = (row: PendingRow, err: unknown, maxDelay?: number) => retryLater(sql, row, err, requestId, maxDelay);
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
        blockedUntil = fail(row, err, D1_RETRY_MAX_MS);
        continue;
      }
    }
    if (!row.mail) {
      sql.exec("DELETE FROM pending WHERE id = ?", row.id);
      continue;
    }
    const mail = JSON.parse(row.mail) as PendingMail;
    if (!row.mail_done) {
      // A record that just had its D1 part applied is due; one waiting for a retry is not.
      if (row.d1_done && row.next_at > now) continue;
      try {
        await deliver(env, row.sealed_secret ? await unsealIntoText(env, mail, row.sealed_secret, readState(sql).user_id) : mail);
      } catch (err) {
        const why = err instanceof Undeliverable ? "permanent" : now - row.created_at >= MAIL_GIVE_UP_AFTER ? "expired" : null;
        if (why) {
          await giveUp(sql, env, row, mail, why, requestId);
          continue;
        }
        fail(row, err);
        await markOutboxFailure(env, mail.id, reasonOf(err));
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
      // Only the outbox row's mark is left: a D1 write, which nothing else waits on, and the mail's own pace is fine.
      fail(row, err);
    }
  }
}

/**
 * Whether a D1 part is still waiting. D1 parts are applied in order and the first failure stops the ones behind
 * it, so with none waiting every effect recorded before the last flush has reached D1.
 */
export function d1Behind(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM pending WHERE d1_done = 0 LIMIT 1").toArray().length === 1;
}

/**
 * Schedules a retry of one record with backoff (no longer than `maxDelay`); returns when. Its log line
 * names the record and the request (or none: the alarm's flush), never the
 * error or the change.
 */
function retryLater(sql: SqlStorage, row: PendingRow, err: unknown, requestId: string | undefined, maxDelay = Number.POSITIVE_INFINITY): number {
  const attempts = row.attempts + 1;
  const next = Date.now() + Math.min(retryDelay(attempts), maxDelay);
  sql.exec("UPDATE pending SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?", attempts, next, reasonOf(err), row.id);
  console.warn(`guard: pending record ${row.id} failed (attempt ${attempts}); will retry (request ${requestId ?? "none"})`);
  return next;
}

/**
 * Best effort: the outbox row shows a failed attempt too (`last_error`); the
 * pending record is what retries, so a D1 failure here is not one more.
 */
async function markOutboxFailure(env: Env, mailId: string, lastError: string): Promise<void> {
  await env.DB.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ? AND sent_at IS NULL")
    .bind(lastError, mailId)
    .run()
    .catch(() => undefined);
}

/**
 * Drops a record whose D1 part is applied and whose email will not be sent:
 * `why` is "permanent" (the provider refused it for good) or "expired" (it
 * failed for MAIL_GIVE_UP_AFTER). The outbox row keeps `sent_at` null and says
 * so in `last_error`, best effort as for any failure: the log line is the
 * record that does not depend on D1. That line names the record, the kind of
 * email and the reason class, never the address, the text or the error.
 */
async function giveUp(sql: SqlStorage, env: Env, row: PendingRow, mail: PendingMail, why: "permanent" | "expired", requestId: string | undefined) {
  const attempts = row.attempts + 1;
  sql.exec("DELETE FROM pending WHERE id = ?", row.id);
  await markOutboxFailure(env, mail.id, `gave up: ${why}`);
  const kind = mail.template ?? "unknown";
  console.warn(
    `guard: pending record ${row.id} gave up its ${kind} email after ${attempts} attempt${attempts === 1 ? "" : "s"} (${why}) (request ${requestId ?? "none"})`,
  );
}
