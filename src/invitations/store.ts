import { eventStatement, securityEvent } from "../audit/events";
import type { Role } from "../communities/store";
import type { RequestMeta } from "../env";
import { prepare } from "../lib/statement";
import type { SessionUser } from "../session";

/** The D1 statements of invitations: one pending invitation per email and community, claimed once by its invitee. */

/**
 * An invitation speaks for its community only while its inviter is one of the
 * community's admins (docs/security.md, finding R7a): every reader below asks
 * this, so a list never offers what the claim would refuse. `i` is the
 * invitations table's alias.
 */
const INVITER_IS_ADMIN = "EXISTS (SELECT 1 FROM memberships a WHERE a.community_id = i.community_id AND a.user_id = i.invited_by AND a.role = 'admin')";

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: number;
}

/**
 * A new invitation replaces the community's pending one for that email (and its link). `tokenHash`: the SHA-256 of its link's secret.
 * The community's invitations that expired unaccepted go in the same batch: nothing reads them again, and at 100 a
 * day they stayed for good otherwise (docs/security.md R9l).
 */
export async function replaceInvitation(db: D1Database, cid: string, invitation: Invitation, invitedBy: string, now: number, tokenHash: string): Promise<void> {
  await db.batch([
    db.prepare("DELETE FROM invitations WHERE community_id = ? AND accepted_at IS NULL AND (email = ? OR expires_at <= ?)").bind(cid, invitation.email, now),
    db
      .prepare("INSERT INTO invitations (id, community_id, email, role, invited_by, created_at, expires_at, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(invitation.id, cid, invitation.email, invitation.role, invitedBy, now, invitation.expiresAt, tokenHash),
  ]);
}

/** The caller's own invitation while it can still be accepted (unexpired, unused), with its link's hash; null for anything else. */
export async function openInvitation(
  db: D1Database,
  id: string,
  email: string,
  now: number,
): Promise<{ token_hash: string | null; community_id: string } | null> {
  return db
    .prepare(`SELECT token_hash, community_id FROM invitations i WHERE id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ? AND ${INVITER_IS_ADMIN}`)
    .bind(id, email, now)
    .first<{ token_hash: string | null; community_id: string }>();
}

/** The community's invitations still waiting, newest first. */
export async function pendingInvitations(db: D1Database, cid: string, now: number): Promise<Invitation[]> {
  const { results } = await db
    .prepare(
      `SELECT id, email, role, expires_at FROM invitations i WHERE community_id = ? AND accepted_at IS NULL AND expires_at > ? AND ${INVITER_IS_ADMIN}
       ORDER BY created_at DESC`,
    )
    .bind(cid, now)
    .all<{ id: string; email: string; role: Role; expires_at: number }>();
  return results.map((r) => ({ id: r.id, email: r.email, role: r.role, expiresAt: r.expires_at }));
}

/** The invitations waiting for this email, with their communities, newest first. */
export async function invitationsFor(db: D1Database, email: string, now: number) {
  const { results } = await db
    .prepare(
      `SELECT i.id, i.role, i.expires_at, c.id AS cid, c.name FROM invitations i JOIN communities c ON c.id = i.community_id
       WHERE i.email = ? AND i.accepted_at IS NULL AND i.expires_at > ? AND ${INVITER_IS_ADMIN} ORDER BY i.created_at DESC`,
    )
    .bind(email, now)
    .all<{ id: string; role: Role; expires_at: number; cid: string; name: string }>();
  return results.map((r) => ({ id: r.id, community: { id: r.cid, name: r.name }, role: r.role, expiresAt: r.expires_at }));
}

/**
 * Accepts the invitee's own, unexpired, unused invitation: the claim, the
 * membership and the `invitation_accepted` event in one batch, the last two
 * only when this request's claim won. Returns the community joined, or null
 * for anything else (the same 404 for every case).
 */
export async function acceptInvitation(
  db: D1Database,
  id: string,
  user: SessionUser,
  meta: Pick<RequestMeta, "ip" | "userAgent">,
  now: number,
  /** With the link's hash, the claim also needs it to match: the link is spent in the same statement. */
  tokenHash: string | null = null,
): Promise<{ id: string; name: string; role: Role } | null> {
  // Which community it is for (fixed for an invitation): the event names it.
  const invited = await db.prepare("SELECT community_id FROM invitations WHERE id = ? AND email = ?").bind(id, user.email).first<{ community_id: string }>();
  if (!invited) return null;
  // The event is written only by the request whose UPDATE claimed the invitation (changes() reads the statement
  // just before it, in the same batch): two accepts by the same user in the same millisecond write one event.
  const claimed = { sql: "changes() = 1", params: [] };
  // The claim also needs the inviter to be an admin of the community still (INVITER_IS_ADMIN): an invitation
  // written while its inviter was being removed (or before removals took their invitations with them) speaks for nobody.
  const event = securityEvent("invitation_accepted", user.id, meta, now, { data: { communityId: invited.community_id } });
  const [claim, , , joined] = await db.batch([
    db
      .prepare(
        `UPDATE invitations AS i SET accepted_at = ?, accepted_by = ?, token_hash = NULL
         WHERE id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ? AND (? IS NULL OR token_hash = ?) AND ${INVITER_IS_ADMIN}
         RETURNING community_id`,
      )
      .bind(now, user.id, id, user.email, now, tokenHash, tokenHash),
    prepare(db, eventStatement(event, claimed)),
    db
      .prepare(
        `INSERT OR IGNORE INTO memberships (community_id, user_id, role, joined_at)
         SELECT community_id, ?, role, ? FROM invitations WHERE id = ? AND accepted_by = ? AND accepted_at = ?`,
      )
      .bind(user.id, now, id, user.id, now),
    db
      .prepare("SELECT c.id, c.name, m.role FROM memberships m JOIN communities c ON c.id = m.community_id WHERE m.community_id = ? AND m.user_id = ?")
      .bind(invited.community_id, user.id),
  ]);
  if ((claim?.results.length ?? 0) !== 1) return null;
  return (joined?.results[0] as { id: string; name: string; role: Role } | undefined) ?? null;
}
