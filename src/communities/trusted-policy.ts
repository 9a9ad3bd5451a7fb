/**
 * Whether every community of this user allows trusted browsers (a community's
 * policy, `allowTrustedBrowsers`; true for a user in no community). Asked when
 * a browser asks to be remembered and again each time a remembered browser
 * would skip the second step, so a community that forbids them takes effect
 * at the next login even before its change has forgotten every member's
 * browsers. One read.
 */
export async function trustedBrowsersAllowed(db: D1Database, userId: string): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS forbidden FROM memberships m JOIN communities c ON c.id = m.community_id
       WHERE m.user_id = ? AND c.allow_trusted_browsers = 0 LIMIT 1`,
    )
    .bind(userId)
    .first();
  return row === null;
}
