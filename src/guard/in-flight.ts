/**
 * What an admin's reset on its way is judged against when it lands in the member's guard (src/guard/reset.ts): how
 * long it may take, and the memberships that ended while it was on its way (docs/security.md R12m, R13m).
 */

/**
 * The longest an admin's reset may take from its start in the admin's guard to its landing in the member's (a few
 * D1 reads in between, in practice milliseconds); one that takes longer is refused, so the record of its start
 * (kept twice as long) is there whenever a reset of that admin by its member needs to be judged against it.
 */
export const ADMIN_ACT_MS = 60_000;

/**
 * This guard's user is leaving `communityId` (they leave, or an admin removes them), told before D1 deletes the
 * membership (docs/security.md R13m). The route checked the membership in D1 before the reset reached this guard,
 * so a leave landing in between let the reset land on someone no longer in the community, or by an admin no longer
 * in it. From this step on, as one: a reset of this user made in that community is refused when it arrives
 * (`adminReset`), a reset this user would begin there is refused (`beginAdminReset`), and the resets this user began
 * there that may still be on their way are returned, for the route to withdraw in their members' guards
 * (`withdrawReset`) before D1 deletes the row. A reset arriving before this step landed while the membership stood.
 * Kept as long as a reset may take to land (the route reads D1 again after its begin, and a reset arriving more than
 * ADMIN_ACT_MS after its begin is refused): after that, D1's own answer suffices.
 */
export function leaveCommunity(sql: SqlStorage, communityId: string, now: number): { target: string; beganAt: number }[] {
  sql.exec("DELETE FROM memberships_left WHERE expires_at <= ?", now);
  sql.exec("INSERT OR REPLACE INTO memberships_left (community, expires_at) VALUES (?, ?)", communityId, now + 2 * ADMIN_ACT_MS);
  return sql
    .exec<{ target: string; began_at: number }>("SELECT target, began_at FROM admin_acts WHERE community = ? AND expires_at > ?", communityId, now)
    .toArray()
    .map((r) => ({ target: r.target, beganAt: r.began_at }));
}

/** The membership stands after all (the community's last admin cannot leave), or the user joined again: forgotten. */
export function stayInCommunity(sql: SqlStorage, communityId: string): void {
  sql.exec("DELETE FROM memberships_left WHERE community = ?", communityId);
}

export function hasLeft(sql: SqlStorage, communityId: string, now: number): boolean {
  return sql.exec("SELECT 1 FROM memberships_left WHERE community = ? AND expires_at > ?", communityId, now).toArray().length > 0;
}

/** A reset `admin` began at `beganAt` in a community they have since left: refused here if it arrives (R13m). */
export function withdrawReset(sql: SqlStorage, adminId: string, beganAt: number, now: number): void {
  sql.exec("DELETE FROM resets_withdrawn WHERE expires_at <= ?", now);
  sql.exec("INSERT OR REPLACE INTO resets_withdrawn (admin, began_at, expires_at) VALUES (?, ?, ?)", adminId, beganAt, now + 2 * ADMIN_ACT_MS);
}

/** Whether the reset's community still holds both, as this guard knows at this instant (R13m). */
export function bothStillMembers(sql: SqlStorage, admin: { id: string; communityId?: string; beganAt?: number }, now: number): boolean {
  if (admin.communityId === undefined) return true; // the operator's: no community
  if (hasLeft(sql, admin.communityId, now)) return false;
  if (admin.beganAt === undefined) return true;
  return sql.exec("SELECT 1 FROM resets_withdrawn WHERE admin = ? AND began_at = ?", admin.id, admin.beganAt).toArray().length === 0;
}
