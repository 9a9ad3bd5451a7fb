import { eventStatement, securityEvent } from "../audit/events";
import { listFullSessions, revokeOtherSessionsStatement, revokeSessionStatement } from "../auth/session-store";
import type { RequestMeta } from "../env";
import { prepare } from "../lib/statement";
import { describeUserAgent } from "../notify/user-agent";
import type { Session } from "../session";

/**
 * The sessions list and its two ways to end sessions. A session is named by
 * its public id only (src/auth/session-store.ts): the token and its hash
 * never leave D1. Every lookup is scoped to the caller's user, so another
 * user's id is as unknown as a made-up one.
 */

export interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  browser: string;
}

export async function sessionsOf(db: D1Database, session: Session, now: number): Promise<SessionView[]> {
  const rows = await listFullSessions(db, session.user.id, now);
  return rows.map((row) => ({
    id: row.public_id,
    current: row.public_id === session.publicId,
    createdAt: new Date(row.created_at).toISOString(),
    // The caller's own row is touched at most every few minutes; this request is its latest sign of life.
    lastSeenAt: new Date(row.public_id === session.publicId ? now : row.last_seen_at).toISOString(),
    ip: row.ip,
    // In words from a fixed list, never the raw header (src/notify/user-agent.ts).
    browser: describeUserAgent(row.user_agent),
  }));
}

/** Ends the caller's session named `publicId`: "current" when it was the caller's own, "none" when no such session of theirs exists. */
export async function endSession(db: D1Database, session: Session, publicId: string, meta: RequestMeta, now: number): Promise<"current" | "other" | "none"> {
  const deleted = await revokeSessionStatement(db, session.user.id, publicId).run();
  if (deleted.meta.changes !== 1) return "none";
  const current = publicId === session.publicId;
  await prepare(db, eventStatement(securityEvent("session_revoked", session.user.id, meta, now, { data: { scope: current ? "this" : "one" } }))).run();
  return current ? "current" : "other";
}

/** Ends every other session of the caller's user, half-logged-in ones included. */
export async function endOtherSessions(db: D1Database, session: Session, meta: RequestMeta, now: number): Promise<number> {
  const count = (await revokeOtherSessionsStatement(db, session.user.id, session.id).run()).meta.changes;
  if (count > 0) await prepare(db, eventStatement(securityEvent("session_revoked", session.user.id, meta, now, { data: { scope: "others", count } }))).run();
  return count;
}
