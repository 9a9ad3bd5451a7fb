import type { MiddlewareHandler } from "hono";
import { sessionOf } from "../auth/session";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";

export type Role = "admin" | "member";

/**
 * Admits admins of the community in the path. Someone outside it gets the same
 * 404 as a community that does not exist; a plain member gets 403.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session = sessionOf(c);
  const cid = c.req.param("cid") ?? "";
  const row = await membershipOf(c.env.DB, cid, session.user.id);
  if (!row) throw new AppError("not_found", "No such community");
  if (row.role !== "admin") throw new AppError("forbidden", "Only the community's admins can do this");
  await next();
};

export async function membershipOf(db: D1Database, cid: string, uid: string): Promise<{ role: Role } | null> {
  return db.prepare("SELECT role FROM memberships WHERE community_id = ? AND user_id = ?").bind(cid, uid).first<{ role: Role }>();
}

export interface CommunityAdmin {
  id: string;
  email: string;
  name: string;
}

export async function communityAdmins(db: D1Database, cid: string): Promise<CommunityAdmin[]> {
  const { results } = await db
    .prepare("SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = ? AND m.role = 'admin' ORDER BY u.id")
    .bind(cid)
    .all<CommunityAdmin>();
  return results;
}

/**
 * Ends a membership in one statement, unless it is the community's last
 * admin: the count and the delete are one step in D1, so two admins leaving at
 * once cannot both go. "gone" when it was no membership (any more).
 */
export async function endMembership(db: D1Database, cid: string, uid: string): Promise<"ended" | "last_admin" | "gone"> {
  const [deleted, still] = await db.batch([
    db
      .prepare(
        `DELETE FROM memberships WHERE community_id = ?1 AND user_id = ?2
           AND (role <> 'admin' OR (SELECT count(*) FROM memberships WHERE community_id = ?1 AND role = 'admin') > 1)
         RETURNING role`,
      )
      .bind(cid, uid),
    db.prepare("SELECT 1 AS present FROM memberships WHERE community_id = ? AND user_id = ?").bind(cid, uid),
  ]);
  if ((deleted?.results.length ?? 0) === 1) return "ended";
  return (still?.results.length ?? 0) === 1 ? "last_admin" : "gone";
}
