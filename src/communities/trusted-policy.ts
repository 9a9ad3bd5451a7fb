/**
 * Whether every community of this user allows trusted browsers (a community's
 * policy, `allowTrustedBrowsers`). Asked when a browser asks to be remembered
 * and again each time a remembered browser would skip the second step, so a
 * community that forbids them takes effect at the next login even before its
 * change has forgotten every member's browsers.
 *
 * Every community allows them until community policies are stored; this is
 * the one place that will read them.
 */
export async function trustedBrowsersAllowed(_db: D1Database, _userId: string): Promise<boolean> {
  return true;
}
