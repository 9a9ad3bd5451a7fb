import { dropOrphanLoginChallenges } from "../factors/webauthn/store";
import { emailLang, storedLang } from "../notify/language";
import { HALF_SESSIONS_KEPT } from "../session";
import type { HalfSession, HalfSessionStart, SessionCaller, StepRequest } from "./types";

/**
 * Half sessions: a login that passed the password and waits for its second
 * step. D1 keeps the session row (the sessions list, logout and every other
 * route read it there); the user's guard keeps, beside it, what the second step
 * needs (its stage, its epoch, who the user is), so the step asks the guard
 * alone and D1 only for the write that completes the login
 * (docs/architecture.md "The half session lives in the guard").
 */

interface HalfSessionRow {
  id: string;
  stage: HalfSession["stage"];
  epoch: number;
  expires_at: number;
  email: string;
  name: string;
  lang: string | null;
  new_browser: number;
  device_generation: string | null;
  [key: string]: SqlStorageValue;
}

/**
 * Records a half session; expired ones go first, so the table holds only the logins of the last minutes,
 * and no more than the newest 20: D1 keeps the same ones (migrations/0012_sessions_kept.sql), so a half
 * session D1 ended is unknown here too, and its second step is refused before it spends a code. The login
 * challenges of the ones let go go with them (src/guard/ceremonies.ts).
 */
export function recordHalfSession(sql: SqlStorage, start: HalfSessionStart, stage: HalfSession["stage"], epoch: number, now: number): void {
  sql.exec("DELETE FROM half_sessions WHERE expires_at <= ?", now);
  sql.exec(
    "INSERT OR REPLACE INTO half_sessions (id, stage, epoch, expires_at, email, name, lang, new_browser, device_generation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    start.id,
    stage,
    epoch,
    start.expiresAt,
    start.user.email,
    start.user.name,
    start.lang,
    start.newBrowser ? 1 : 0,
    start.deviceGeneration,
  );
  // Ordered as D1 orders them: the deadline is the login's time plus the same 10 minutes for all.
  sql.exec(
    "DELETE FROM half_sessions WHERE rowid IN (SELECT rowid FROM half_sessions ORDER BY expires_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
    HALF_SESSIONS_KEPT,
  );
  dropOrphanLoginChallenges(sql);
}

/** The live half session with this id, or null: unknown, ended, or past its 10 minutes. */
export function findHalfSession(sql: SqlStorage, userId: string, id: string, now: number): HalfSession | null {
  const row = sql.exec<HalfSessionRow>("SELECT * FROM half_sessions WHERE id = ?", id).toArray()[0];
  if (!row || now >= row.expires_at) return null;
  return {
    id: row.id,
    stage: row.stage,
    epoch: row.epoch,
    userLang: storedLang(row.lang),
    newBrowser: row.new_browser === 1,
    user: { id: userId, email: row.email, name: row.name },
    deviceGeneration: row.device_generation,
  };
}

/** The guard's caller for a second step: the user and the session from the half session, the rest from the request. */
export function stepCaller(session: HalfSession, request: StepRequest): SessionCaller {
  return {
    user: session.user,
    ip: request.ip,
    userAgent: request.userAgent,
    now: request.now,
    requestId: request.requestId,
    // Before the second step, the request does not yet speak for the user: their last login's language does.
    lang: emailLang(request.lang, { stored: session.userLang, ownProvenRequest: false }),
    stage: session.stage,
    sessionEpoch: session.epoch,
    sessionId: session.id,
  };
}

/** Forgets one half session, or all of them, with their login challenges. */
export function forgetHalfSessions(sql: SqlStorage, id?: string): void {
  if (id === undefined) sql.exec("DELETE FROM half_sessions");
  else sql.exec("DELETE FROM half_sessions WHERE id = ?", id);
  dropOrphanLoginChallenges(sql);
}
