import type { Statement } from "../lib/statement";
import type { Effect } from "./effects";
import { readState } from "./state";

/**
 * One credential id, one account (WebAuthn §7.1; docs/security.md R11b). A guard knows only its own user's
 * keys; D1's unique index `methods_credential` (migrations/0002_webauthn.sql) knows everyone's, so it decides.
 * A registration therefore writes the key's listing row to D1 first, as a claim, and the key joins the guard
 * only once D1 holds that row: of two accounts registering one id at the same instant, the index lets one row
 * in. Reading D1 first and writing afterwards let both through, each before the other wrote.
 *
 * The claim is an effect like any other (src/guard/effects.ts): its `INSERT OR IGNORE` runs behind the
 * guard's earlier D1 writes, so a reset's "delete every method" still waiting to be retried cannot land after
 * it, and a lost race is an ignored row, never a write retried forever. While the registration runs, the
 * guard keeps the claim in `key_claims`; whatever ends the registration without the key (a refusal, D1 not
 * answering, the guard restarted mid-call and the alarm) takes the row back out of D1.
 */

/** Far longer than any registration takes between its claim and its end; only a claim the guard never finished lives this long. */
export const CLAIM_TTL_MS = 10 * 60_000;

export interface KeyClaim {
  /** The method id the key will have: the D1 row's id. */
  methodId: string;
  userId: string;
  credentialId: string;
  name: string;
  createdAt: number;
}

/** Synchronous: keeps the claim here and returns the effect that writes its row to D1 (the listing row the key would have). */
export function openClaim(sql: SqlStorage, claim: KeyClaim, now: number): Effect {
  sql.exec("INSERT INTO key_claims (method_id, credential_id, expires_at) VALUES (?, ?, ?)", claim.methodId, claim.credentialId, now + CLAIM_TTL_MS);
  return {
    statements: [
      {
        sql: "INSERT OR IGNORE INTO methods (id, user_id, type, name, created_at, credential_id) VALUES (?, ?, 'webauthn', ?, ?, ?)",
        params: [claim.methodId, claim.userId, claim.name, claim.createdAt, claim.credentialId],
      },
    ],
  };
}

/** After the claim's effect reached D1: whether its row is there, that is whether the unique index let it in. */
export async function claimHeld(db: D1Database, claim: KeyClaim): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 FROM methods WHERE id = ? AND user_id = ? AND credential_id = ?")
    .bind(claim.methodId, claim.userId, claim.credentialId)
    .first();
  return row !== null;
}

/** Whether the claim is still open here: the alarm releases one whose registration outlived CLAIM_TTL_MS. */
export function claimOpen(sql: SqlStorage, methodId: string): boolean {
  return sql.exec("SELECT 1 FROM key_claims WHERE method_id = ?", methodId).toArray().length === 1;
}

/** Ends the claim here, in the step that adds the key or refuses it; false when the alarm had already released it. */
export function closeClaim(sql: SqlStorage, methodId: string): boolean {
  return sql.exec("DELETE FROM key_claims WHERE method_id = ? RETURNING method_id", methodId).toArray().length === 1;
}

function release(userId: string, methodId: string): Statement {
  return { sql: "DELETE FROM methods WHERE id = ? AND user_id = ?", params: [methodId, userId] };
}

/**
 * A registration that ends without its key: the claim closes here and, unless D1 is known not to hold its row
 * (`inD1` false: the index refused it), the row is taken back. Recorded behind the claim's own effect, so it
 * lands after the INSERT even when that is still being retried.
 */
export function abandonClaim(sql: SqlStorage, claim: KeyClaim, inD1: boolean): Effect | null {
  if (!closeClaim(sql, claim.methodId) || !inD1) return null;
  return { statements: [release(claim.userId, claim.methodId)] };
}

/** The alarm: claims of registrations that never ended (the guard restarted between the claim and the key). */
export function releaseExpiredClaims(sql: SqlStorage, now: number): Effect | null {
  const userId = readState(sql).user_id;
  const expired = sql.exec<{ method_id: string }>("DELETE FROM key_claims WHERE expires_at <= ? RETURNING method_id", now).toArray();
  if (!userId || expired.length === 0) return null;
  return { statements: expired.map((c) => release(userId, c.method_id)) };
}
