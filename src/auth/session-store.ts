import type { Context } from "hono";
import type { RequestMeta } from "../env";
import { readHostCookie, setHostCookie } from "../http/cookies";
import { toBase64URL } from "../lib/encoding";
import { newId, randomBytes } from "../lib/random";
import { sha256Hex } from "../lib/sha256";
import { storedLang } from "../notify/language";
import { FULL_SESSIONS_KEPT, IDLE_MS, lifetime, type Session, type Stage } from "../session";

/**
 * The sessions table (D1) and the cookie that names a row: a row is keyed by
 * the SHA-256 of a 256-bit token that only the cookie holds. Every statement
 * that reads or writes a session is here.
 */

/** The session cookie: `__Host-session`. */
const COOKIE = "session";
/** last_seen_at is written at most this often, to keep D1 writes per request near zero. */
export const TOUCH_MS = 5 * 60_000;

/** 256 random bits; only their SHA-256 is stored, so a leaked table holds no usable token. */
export function newToken(): { token: string; id: string } {
  const token = toBase64URL(randomBytes(32));
  return { token, id: sha256Hex(token) };
}

export function insertSession(
  db: D1Database,
  /** `half`: a half session's token and id, minted for its guard (src/auth/half-token.ts); else a new plain token. */
  input: { userId: string; stage: Stage; epoch: number; meta: RequestMeta; now: number; newBrowser?: boolean; half?: { token: string; id: string } },
): { token: string; statement: D1PreparedStatement } {
  const { token, id } = input.half ?? newToken();
  const statement = db
    .prepare(
      `INSERT INTO sessions (id, public_id, user_id, stage, epoch, created_at, last_seen_at, expires_at, reauth_at, ip, user_agent, new_browser)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      id,
      // The name the Security page shows: not the token, not its hash, and kept when the token changes.
      newId(),
      input.userId,
      input.stage,
      input.epoch,
      input.now,
      input.now,
      input.now + lifetime(input.stage),
      // Entering the password and a recovery code is as fresh as it gets.
      input.stage === "enrollment" ? input.now : null,
      input.meta.ip,
      input.meta.userAgent,
      input.newBrowser ? 1 : 0,
    );
  return { token, statement };
}

/**
 * Moves a session to its next stage under a new token. The WHERE clause on the
 * old id and stage makes the move happen once even if two requests race.
 */
export function advanceSession(
  db: D1Database,
  /** A half session (src/guard/half-sessions.ts) has no re-entered password to keep. */
  session: Pick<Session, "id" | "stage" | "epoch"> & { reauthAt?: number | null },
  stage: Stage,
  now: number,
  epoch = session.epoch,
): { token: string; statement: D1PreparedStatement } {
  const { token, id } = newToken();
  // Unexpired too: the second step's half session was read from the guard, which keeps the same deadline.
  const statement = db
    .prepare(
      `UPDATE sessions SET id = ?, stage = ?, epoch = ?, created_at = ?, last_seen_at = ?, expires_at = ?,
              reauth_at = ?
       WHERE id = ? AND stage = ? AND expires_at > ?`,
    )
    .bind(id, stage, epoch, now, now, now + lifetime(stage), stage === "enrollment" ? now : (session.reauthAt ?? null), session.id, session.stage, now);
  return { token, statement };
}

/**
 * Whether a statement that moves a session (advanceSession, renewAtEpoch, renewAfterReauth) moved it. D1 counts with the row
 * the older rows that migrations/0012_sessions_kept.sql ended when it entered a new stage's class, so a move
 * may count more than one; a session that had ended or already moved counts none.
 */
export function sessionMoved(result: D1Result | undefined): boolean {
  return (result?.meta.changes ?? 0) > 0;
}

/**
 * A re-entered password is an authentication too: the session gets a new token
 * (ASVS 7.2.4) and its sudo window starts now. Stage and expiry are unchanged.
 */
export function renewAfterReauth(db: D1Database, session: Session, now: number): { token: string; statement: D1PreparedStatement } {
  const { token, id } = newToken();
  const statement = db.prepare("UPDATE sessions SET id = ?, reauth_at = ? WHERE id = ?").bind(id, now, session.id);
  return { token, statement };
}

/**
 * Turning 2FA on ends every other session (epoch); this one continues under a
 * new token at the new epoch, keeping its stage, lifetime and re-entered
 * password. The WHERE clause on the old id and stage moves it once.
 */
export function renewAtEpoch(db: D1Database, session: Session, epoch: number): { token: string; statement: D1PreparedStatement } {
  const { token, id } = newToken();
  const statement = db.prepare("UPDATE sessions SET id = ?, epoch = MAX(epoch, ?) WHERE id = ? AND stage = ?").bind(id, epoch, session.id, session.stage);
  return { token, statement };
}

export function setSessionCookie(c: Context, token: string, stage: Stage): void {
  setHostCookie(c, COOKIE, token, Math.floor(lifetime(stage) / 1000));
}

export function clearSessionCookie(c: Context): void {
  setHostCookie(c, COOKIE, "", 0);
}

export interface SessionRow {
  id: string;
  user_id: string;
  stage: Stage;
  epoch: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  reauth_at: number | null;
  public_id: string;
  new_browser: number;
  email: string;
  name: string;
  session_epoch: number;
  lang: string | null;
}

/** A live session's row keeps its user's epoch beside its own (see isLive). */
export function isLive(row: Pick<SessionRow, "stage" | "epoch" | "expires_at" | "last_seen_at" | "session_epoch">, now: number): boolean {
  if (now >= row.expires_at) return false;
  // A reset, a disable or a method removal raises the user's epoch: older sessions are dead.
  if (row.epoch < row.session_epoch) return false;
  if (row.stage === "authenticated" && now - row.last_seen_at >= IDLE_MS) return false;
  return true;
}

/** The session a cookie names, with its user, or null; whether it is still live is `isLive`'s to say. */
export function readSessionCookie(c: Context): string | null {
  const cookie = readHostCookie(c, COOKIE);
  // Plain tokens are 43 characters, half sessions' about 90 (src/auth/half-token.ts); anything far longer is not ours.
  return cookie && cookie.length <= 200 ? cookie : null;
}

export async function findSession(db: D1Database, token: string): Promise<SessionRow | null> {
  return db
    .prepare(
      `SELECT s.id, s.user_id, s.stage, s.epoch, s.created_at, s.last_seen_at, s.expires_at, s.reauth_at, s.public_id, s.new_browser,
              u.email, u.name, u.session_epoch, u.lang
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
    )
    .bind(sha256Hex(token))
    .first<SessionRow>();
}

export function sessionOfRow(row: SessionRow): Session {
  return {
    id: row.id,
    stage: row.stage,
    epoch: row.epoch,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    reauthAt: row.reauth_at,
    userLang: storedLang(row.lang),
    publicId: row.public_id,
    newBrowser: row.new_browser === 1,
    user: { id: row.user_id, email: row.email, name: row.name },
  };
}

export function touchSession(db: D1Database, id: string, now: number): D1PreparedStatement {
  return db.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?").bind(now, id);
}

export function deleteSession(db: D1Database, id: string): D1PreparedStatement {
  return db.prepare("DELETE FROM sessions WHERE id = ?").bind(id);
}

/**
 * The user's dead rows (past their absolute end, or idle past the hour, as `isLive` judges): deleted at
 * each login of theirs. A dead row is otherwise deleted only when its cookie comes back, and a browser
 * that dropped it (an abandoned second step, a cleared cookie, a script throwing cookies away) never
 * sends it: without this, every such login left a row in D1 for good.
 */
export function deleteDeadSessions(db: D1Database, userId: string, now: number): D1PreparedStatement {
  return db
    .prepare("DELETE FROM sessions WHERE user_id = ? AND (expires_at <= ? OR (stage = 'authenticated' AND last_seen_at <= ?))")
    .bind(userId, now, now - IDLE_MS);
}

/** A full session as the Security page lists it. */
export interface ListedSessionRow {
  public_id: string;
  stage: Stage;
  epoch: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  session_epoch: number;
}

/**
 * The user's live `authenticated` sessions, newest first. Half-logged-in
 * sessions are not listed: they cannot act on the account, and end by
 * themselves within 10 minutes (revokeOtherSessions ends them too).
 */
export async function listFullSessions(db: D1Database, userId: string, now: number): Promise<ListedSessionRow[]> {
  const { results } = await db
    .prepare(
      `SELECT s.public_id, s.stage, s.epoch, s.created_at, s.last_seen_at, s.expires_at, s.ip, s.user_agent, u.session_epoch
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.user_id = ? AND s.stage = 'authenticated' AND s.expires_at > ?
       ORDER BY s.created_at DESC, s.rowid DESC LIMIT ?`,
    )
    // An account keeps no more (migrations/0012_sessions_kept.sql), so every one it keeps is listed.
    .bind(userId, now, FULL_SESSIONS_KEPT)
    .all<ListedSessionRow>();
  return results.filter((row) => isLive(row, now));
}

/**
 * Ends one full session of this user, named by its public id. Another user's
 * id, a half-logged-in session's or an unknown one changes nothing (0 rows).
 */
export function revokeSessionStatement(db: D1Database, userId: string, publicId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM sessions WHERE public_id = ? AND user_id = ? AND stage = 'authenticated'").bind(publicId, userId);
}

/** Ends every session of this user but the caller's, whatever their stage. */
export function revokeOtherSessionsStatement(db: D1Database, userId: string, keepId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM sessions WHERE user_id = ? AND id != ?").bind(userId, keepId);
}
