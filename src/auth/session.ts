import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, RequestMeta } from "../env";
import { readCookie, setHostCookie } from "../http/cookies";
import { AppError } from "../http/errors";
import { toBase64URL } from "../lib/encoding";
import { randomBytes } from "../lib/random";
import { sha256Hex } from "../lib/sha256";

/** A session is in exactly one stage (API.md "Session stages"). */
export type Stage = "second_factor" | "recovery" | "enrollment" | "authenticated";
export type HalfStage = Exclude<Stage, "authenticated">;

export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

export interface Session {
  id: string;
  stage: Stage;
  epoch: number;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  reauthAt: number | null;
  user: SessionUser;
}

export const COOKIE = "__Host-session";
const MINUTE = 60_000;
/** Half-logged-in stages live 10 minutes (API.md). */
export const HALF_SESSION_MS = 10 * MINUTE;
/** Full sessions: 12 hours at most, and 1 hour without a request ends them (NIST SP 800-63B-4 AAL2 §2.2.3). */
export const FULL_SESSION_MS = 12 * 60 * MINUTE;
export const IDLE_MS = 60 * MINUTE;
/** last_seen_at is written at most this often, to keep D1 writes per request near zero. */
const TOUCH_MS = 5 * MINUTE;
/** A re-entered password ("sudo") lasts 10 minutes. */
export const REAUTH_MS = 10 * MINUTE;

export function lifetime(stage: Stage): number {
  return stage === "authenticated" ? FULL_SESSION_MS : HALF_SESSION_MS;
}

/** 256 random bits; only their SHA-256 is stored, so a leaked table holds no usable token. */
export function newToken(): { token: string; id: string } {
  const token = toBase64URL(randomBytes(32));
  return { token, id: sha256Hex(token) };
}

export function insertSession(
  db: D1Database,
  input: { userId: string; stage: Stage; epoch: number; meta: RequestMeta; now: number },
): { token: string; statement: D1PreparedStatement } {
  const { token, id } = newToken();
  const statement = db
    .prepare(
      `INSERT INTO sessions (id, user_id, stage, epoch, created_at, last_seen_at, expires_at, reauth_at, ip, user_agent)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      id,
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
    );
  return { token, statement };
}

/**
 * Moves a session to its next stage under a new token. The WHERE clause on the
 * old id and stage makes the move happen once even if two requests race.
 */
export function advanceSession(
  db: D1Database,
  session: Session,
  stage: Stage,
  now: number,
  epoch = session.epoch,
): { token: string; statement: D1PreparedStatement } {
  const { token, id } = newToken();
  const statement = db
    .prepare(
      `UPDATE sessions SET id = ?, stage = ?, epoch = ?, created_at = ?, last_seen_at = ?, expires_at = ?,
              reauth_at = ?
       WHERE id = ? AND stage = ?`,
    )
    .bind(id, stage, epoch, now, now, now + lifetime(stage), stage === "enrollment" ? now : session.reauthAt, session.id, session.stage);
  return { token, statement };
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

interface SessionRow {
  id: string;
  user_id: string;
  stage: Stage;
  epoch: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  reauth_at: number | null;
  email: string;
  name: string;
  session_epoch: number;
}

export function isLive(row: Pick<SessionRow, "stage" | "epoch" | "expires_at" | "last_seen_at" | "session_epoch">, now: number): boolean {
  if (now >= row.expires_at) return false;
  // A reset, a disable or a method removal raises the user's epoch: older sessions are dead.
  if (row.epoch < row.session_epoch) return false;
  if (row.stage === "authenticated" && now - row.last_seen_at >= IDLE_MS) return false;
  return true;
}

/** Loads the session named by the cookie, if live; never fails the request by itself. */
export const loadSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const cookie = readCookie(c.req.header("Cookie"), COOKIE);
  const token = cookie && cookie.length <= 128 ? cookie : null;
  if (token) {
    const id = sha256Hex(token);
    const row = await c.env.DB.prepare(
      `SELECT s.id, s.user_id, s.stage, s.epoch, s.created_at, s.last_seen_at, s.expires_at, s.reauth_at,
              u.email, u.name, u.session_epoch
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`,
    )
      .bind(id)
      .first<SessionRow>();
    const now = Date.now();
    if (row && isLive(row, now)) {
      c.set("session", {
        id: row.id,
        stage: row.stage,
        epoch: row.epoch,
        createdAt: row.created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        reauthAt: row.reauth_at,
        user: { id: row.user_id, email: row.email, name: row.name },
      });
      if (row.stage === "authenticated" && now - row.last_seen_at >= TOUCH_MS) {
        c.executionCtx.waitUntil(c.env.DB.prepare("UPDATE sessions SET last_seen_at = ? WHERE id = ?").bind(now, row.id).run());
      }
    } else if (row) {
      c.executionCtx.waitUntil(c.env.DB.prepare("DELETE FROM sessions WHERE id = ?").bind(row.id).run());
    }
  }
  await next();
};

/**
 * Admits only the listed stages. The refusal names what the caller must do next,
 * in the contract's words: log in, finish the second step, or set up a method.
 */
export function requireStage(...allowed: Stage[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.get("session");
    if (!session) throw new AppError("unauthenticated", "Log in first");
    if (!allowed.includes(session.stage)) {
      if (session.stage === "second_factor" || session.stage === "recovery") {
        throw new AppError("second_factor_required", "Finish the second login step first");
      }
      if (session.stage === "enrollment") {
        throw new AppError("enrollment_required", "Set up a new two-factor method first");
      }
      throw new AppError("invalid_request", "This session is already fully logged in");
    }
    await next();
  };
}

/** The session, once `requireStage` has run. */
export function sessionOf(c: Context<AppEnv>): Session {
  const session = c.get("session");
  if (!session) throw new AppError("unauthenticated", "Log in first");
  return session;
}

/** Sudo: a password re-entered within 10 minutes, or a fresh enrollment session. */
export const requireRecentReauth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session = sessionOf(c);
  const fresh = session.reauthAt !== null && Date.now() - session.reauthAt < REAUTH_MS;
  if (!fresh) throw new AppError("reauth_required", "Enter your password again to make this change");
  await next();
};
