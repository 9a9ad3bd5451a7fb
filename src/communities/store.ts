import { DAY_MS, type Policy } from "./policy";

/** The D1 statements of communities and their memberships. Invitations: src/invitations/store.ts. */

export type Role = "admin" | "member";

export async function membershipOf(db: D1Database, cid: string, uid: string): Promise<{ role: Role } | null> {
  return db.prepare("SELECT role FROM memberships WHERE community_id = ? AND user_id = ?").bind(cid, uid).first<{ role: Role }>();
}

/** Whether `adminId` is still an admin of the community and `uid` still a member, in one read (an admin reset's re-check, R13m). */
export async function stillMembers(db: D1Database, cid: string, adminId: string, uid: string): Promise<"both" | "admin_gone" | "member_gone"> {
  const row = await db
    .prepare(
      `SELECT EXISTS (SELECT 1 FROM memberships WHERE community_id = ?1 AND user_id = ?2 AND role = 'admin') AS admin,
              EXISTS (SELECT 1 FROM memberships WHERE community_id = ?1 AND user_id = ?3) AS member`,
    )
    .bind(cid, adminId, uid)
    .first<{ admin: number; member: number }>();
  if (row?.admin !== 1) return "admin_gone";
  return row.member === 1 ? "both" : "member_gone";
}

export async function communityName(db: D1Database, cid: string): Promise<string | null> {
  return (await db.prepare("SELECT name FROM communities WHERE id = ?").bind(cid).first<{ name: string }>())?.name ?? null;
}

/** Whether someone with this email already belongs to the community. */
export async function hasMemberWithEmail(db: D1Database, cid: string, email: string): Promise<boolean> {
  return (
    (await db.prepare("SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = ? AND u.email = ?").bind(cid, email).first()) !==
    null
  );
}

export interface CommunityAdmin {
  id: string;
  email: string;
  name: string;
  /** D1 `users.lang`: the language of their last login, for the notices they are sent. */
  lang: string | null;
}

export async function communityAdmins(db: D1Database, cid: string): Promise<CommunityAdmin[]> {
  const { results } = await db
    .prepare(
      "SELECT u.id, u.email, u.name, u.lang FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = ? AND m.role = 'admin' ORDER BY u.id",
    )
    .bind(cid)
    .all<CommunityAdmin>();
  return results;
}

/**
 * The other admins of every community `uid` administers, each with that
 * community's id and name: one row per (community, admin), so an admin of two
 * such communities is named once for each.
 */
export async function coAdminsOf(db: D1Database, uid: string): Promise<(CommunityAdmin & { communityId: string; communityName: string })[]> {
  const { results } = await db
    .prepare(
      `SELECT u.id, u.email, u.name, u.lang, c.id AS communityId, c.name AS communityName
       FROM memberships t
       JOIN communities c ON c.id = t.community_id
       JOIN memberships m ON m.community_id = t.community_id AND m.role = 'admin' AND m.user_id != t.user_id
       JOIN users u ON u.id = m.user_id
       WHERE t.user_id = ? AND t.role = 'admin'
       ORDER BY c.id, u.id`,
    )
    .bind(uid)
    .all<CommunityAdmin & { communityId: string; communityName: string }>();
  return results;
}

/**
 * The communities `uid` belongs to in which another user is an admin: those
 * whose admins could reset `uid`'s 2FA. A takeover by password reset leaves
 * them (src/guard/tokens.ts `resetPassword`, docs/security.md R11h).
 */
export async function communitiesAdministeredByOthers(db: D1Database, uid: string): Promise<{ id: string; name: string }[]> {
  const { results } = await db
    .prepare(
      `SELECT c.id, c.name FROM memberships t JOIN communities c ON c.id = t.community_id
       WHERE t.user_id = ?1 AND EXISTS (SELECT 1 FROM memberships m WHERE m.community_id = t.community_id AND m.role = 'admin' AND m.user_id != ?1)
       ORDER BY c.id`,
    )
    .bind(uid)
    .all<{ id: string; name: string }>();
  return results;
}

/**
 * Ends a membership in one statement, unless it is the community's last
 * admin: the count and the delete are one step in D1, so two admins leaving at
 * once cannot both go. "gone" when it was no membership (any more).
 *
 * The invitations still pending that this user sent as an admin go in the same
 * batch: an invitation speaks for the community only while its inviter is one
 * of its admins, or a removed admin's accomplice, invited as admin just before,
 * could join afterwards and remove the admins who removed them
 * (docs/security.md, finding R7a; the claim checks it too, src/invitations/store.ts).
 */
export async function endMembership(db: D1Database, cid: string, uid: string): Promise<"ended" | "last_admin" | "gone"> {
  const [deleted, , still] = await db.batch([
    db
      .prepare(
        `DELETE FROM memberships WHERE community_id = ?1 AND user_id = ?2
           AND (role <> 'admin' OR (SELECT count(*) FROM memberships WHERE community_id = ?1 AND role = 'admin') > 1)
         RETURNING role`,
      )
      .bind(cid, uid),
    db
      .prepare(
        `DELETE FROM invitations WHERE community_id = ?1 AND invited_by = ?2 AND accepted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM memberships WHERE community_id = ?1 AND user_id = ?2 AND role = 'admin')`,
      )
      .bind(cid, uid),
    db.prepare("SELECT 1 AS present FROM memberships WHERE community_id = ? AND user_id = ?").bind(cid, uid),
  ]);
  if ((deleted?.results.length ?? 0) === 1) return "ended";
  return (still?.results.length ?? 0) === 1 ? "last_admin" : "gone";
}

export interface MemberRow {
  id: string;
  joined_at: number;
  email: string;
  name: string;
  role: Role;
  two_factor_enabled: number;
  recovery_expires_at: number | null;
  /** The types of the member's methods, comma-separated (D1's listing copy). */
  types: string | null;
}

/** Every member with the D1 copy of their two-factor state, by name. */
export async function membersOf(db: D1Database, cid: string): Promise<MemberRow[]> {
  const { results } = await db
    .prepare(
      `SELECT u.id, u.email, u.name, m.role, m.joined_at, u.two_factor_enabled, u.recovery_expires_at,
              (SELECT group_concat(DISTINCT t.type) FROM methods t WHERE t.user_id = u.id) AS types
       FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.community_id = ? ORDER BY u.name, u.email`,
    )
    .bind(cid)
    .all<MemberRow>();
  return results;
}

/** The events of a member's reset, from issue to use or expiry: what an admin needs to follow one up. */
export const RESET_EVENTS = ["recovery_code_issued", "recovery_code_used", "recovery_code_expired"] as const;

export interface ResetEventRow {
  type: (typeof RESET_EVENTS)[number];
  at: number;
  data: string | null;
  id: string;
  email: string;
  name: string;
  actor_id: string | null;
  actor_name: string | null;
}

/**
 * The last 50 reset events of the community's members, newest first, whichever
 * community's admin made the reset; the actor only when that admin belongs to
 * this community. Only those since the member's joining: what happened to them
 * before (in another community, by the operator, or while they were away from
 * this one) is not what they consented to show its admins (docs/security.md R12i).
 */
export async function resetEventsOf(db: D1Database, cid: string): Promise<ResetEventRow[]> {
  const { results } = await db
    .prepare(
      `SELECT e.type, e.at, e.data, u.id, u.email, u.name, a.id AS actor_id, a.name AS actor_name
       FROM memberships m
       JOIN users u ON u.id = m.user_id
       JOIN events e ON e.user_id = m.user_id
       LEFT JOIN memberships am ON am.community_id = m.community_id AND am.user_id = e.actor_id
       LEFT JOIN users a ON a.id = am.user_id
       WHERE m.community_id = ? AND e.at >= m.joined_at AND e.type IN (${RESET_EVENTS.map(() => "?").join(", ")})
       ORDER BY e.at DESC, e.rowid DESC LIMIT 50`,
    )
    .bind(cid, ...RESET_EVENTS)
    .all<ResetEventRow>();
  return results;
}

interface PolicyRow {
  id: string;
  name: string;
  require_two_factor: number;
  grace_days: number;
  allow_trusted_browsers: number;
  enforced_from: number | null;
}

function policyOfRow(row: PolicyRow): Policy {
  return {
    requireTwoFactor: row.require_two_factor === 1,
    graceDays: row.grace_days,
    allowTrustedBrowsers: row.allow_trusted_browsers === 1,
    enforcedFrom: row.enforced_from,
  };
}

/** A community with its two-factor policy; null when there is none with that id. */
export async function communityWithPolicy(db: D1Database, cid: string): Promise<{ id: string; name: string; policy: Policy } | null> {
  const row = await db
    .prepare("SELECT id, name, require_two_factor, grace_days, allow_trusted_browsers, enforced_from FROM communities WHERE id = ?")
    .bind(cid)
    .first<PolicyRow>();
  return row ? { id: row.id, name: row.name, policy: policyOfRow(row) } : null;
}

/**
 * Stores an admin's change in one statement, which also decides the start:
 * turning the requirement on starts it now, a change of the other fields keeps
 * its start, turning it off forgets it. Two admins saving at once cannot mix
 * one's start with the other's requirement. Null when the community is gone.
 */
export async function savePolicy(db: D1Database, cid: string, change: Omit<Policy, "enforcedFrom">, now: number): Promise<Policy | null> {
  const row = await db
    .prepare(
      `UPDATE communities SET
         enforced_from = CASE WHEN ?1 = 1 THEN COALESCE(CASE WHEN require_two_factor = 1 THEN enforced_from END, ?2) END,
         require_two_factor = ?1, grace_days = ?3, allow_trusted_browsers = ?4
       WHERE id = ?5
       RETURNING id, name, require_two_factor, grace_days, allow_trusted_browsers, enforced_from`,
    )
    .bind(change.requireTwoFactor ? 1 : 0, now, change.graceDays, change.allowTrustedBrowsers ? 1 : 0, cid)
    .first<PolicyRow>();
  return row ? policyOfRow(row) : null;
}

/**
 * The earliest moment any of the user's communities requires 2FA of them
 * (src/communities/policy.ts `requiredByFor`, in SQL: one read), or null when
 * none does. Whether the user has 2FA is the caller's question.
 */
export function requiredByStatement(db: D1Database, userId: string): D1PreparedStatement {
  return db.prepare(`SELECT (${requiredBySql("?")}) AS required_by`).bind(userId);
}

/**
 * The same question as a scalar subquery about the user `userId` names (a
 * parameter, or a column of an outer query: a login reads it beside the
 * user's row, src/auth/store.ts `findLoginUser`). Over no rows MIN is NULL.
 */
export function requiredBySql(userId: string): string {
  return `SELECT MIN(MAX(c.enforced_from, m.joined_at) + c.grace_days * ${DAY_MS})
       FROM memberships m JOIN communities c ON c.id = m.community_id
       WHERE m.user_id = ${userId} AND c.require_two_factor = 1 AND c.enforced_from IS NOT NULL`;
}

export async function requiredByOf(db: D1Database, userId: string): Promise<number | null> {
  return (await requiredByStatement(db, userId).first<{ required_by: number | null }>())?.required_by ?? null;
}
