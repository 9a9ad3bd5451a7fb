/**
 * Whether every community of this user allows trusted browsers (a community's
 * policy, `allowTrustedBrowsers`; true for a user in no community). Asked when
 * a browser asks to be remembered and again each time a remembered browser
 * would skip the second step (the login reads it with the user's row,
 * src/auth/store.ts `findLoginUser`), so a community that forbids them takes
 * effect at the next login even before its change has forgotten every
 * member's browsers. One read.
 */
export async function trustedBrowsersAllowed(db: D1Database, userId: string): Promise<boolean> {
  const row = await db
    .prepare(`SELECT ${trustedBrowsersAllowedSql("?")} AS allowed`)
    .bind(userId)
    .first<{ allowed: number }>();
  return row?.allowed === 1;
}

/** The same question as an SQL expression (1 or 0) about the user `userId` names: a parameter, or a column of an outer query. */
export function trustedBrowsersAllowedSql(userId: string): string {
  return `NOT EXISTS (SELECT 1 FROM memberships m JOIN communities c ON c.id = m.community_id
       WHERE m.user_id = ${userId} AND c.allow_trusted_browsers = 0)`;
}
