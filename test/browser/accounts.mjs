// Accounts made through the API, for tests that need someone in a given state
// before the page under test opens (the journeys themselves go through pages).
// Each account has its own browser context, so its cookies are its session.
import assert from "node:assert/strict";
import { freshTOTP, newPage, PASSWORD, uniqueEmail, virtualAuthenticator } from "./support.mjs";

/** A JSON call with the context's cookies; throws with the problem on a refusal. */
export async function call(context, method, path, data) {
  const res = await context.request.fetch(path, { method, data, headers: { Accept: "application/json" } });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok()) throw new Error(`${method} ${path}: ${res.status()} ${text}`);
  return body;
}

/**
 * Signs up and logs in; `community` makes them its admin. Returns
 * { page, context, email, name, id, communityId? } with a page at "about:blank".
 */
export async function account(
  browser,
  { name, community, locale = "en-US", colorScheme = "light", prefix = "acct", email = uniqueEmail(prefix), width, height } = {},
) {
  const page = await newPage(browser, { locale, colorScheme, width, height });
  const context = page.context();
  await call(context, "POST", "/api/auth/signup", { name, email, password: PASSWORD, ...(community ? { community } : {}) });
  const login = await call(context, "POST", "/api/auth/login", { email, password: PASSWORD });
  assert.equal(login.status, "authenticated");
  const me = await call(context, "GET", "/api/me");
  return { page, context, email, name, id: me.user.id, communityId: me.communities[0]?.id };
}

/** Turns on 2FA with an authenticator app; returns its base32 secret and the ten backup codes. */
export async function addAuthenticatorApp(user, name = "Phone") {
  await call(user.context, "POST", "/api/security/reauth", { password: PASSWORD });
  const started = await call(user.context, "POST", "/api/security/totp", { name });
  const confirmed = await call(user.context, "POST", `/api/security/totp/${started.id}/confirm`, { code: await freshTOTP(started.secret) });
  return { secret: started.secret, backupCodes: confirmed.backupCodes ?? [] };
}

/** `admin` invites `user` into the admin's community and `user` accepts. */
export async function join(admin, user, role = "member") {
  await call(admin.context, "POST", `/api/communities/${admin.communityId}/invitations`, { email: user.email, role });
  const { invitations } = await call(user.context, "GET", "/api/invitations");
  await call(user.context, "POST", `/api/invitations/${invitations[0].id}/accept`);
}

/** `admin` resets `user`'s 2FA; returns the recovery code. */
export async function resetTwoFactor(admin, user) {
  const { recoveryCode } = await call(admin.context, "POST", `/api/communities/${admin.communityId}/members/${user.id}/reset-2fa`, { password: PASSWORD });
  return recoveryCode;
}

/**
 * Registers a security key on the Security page with a CDP virtual authenticator
 * (a ceremony has no API shortcut), for someone whose 2FA is already on.
 */
export async function addKey(user, name) {
  const page = user.page;
  await virtualAuthenticator(page);
  await page.goto("/security");
  await page.locator("#add-key").click();
  await page.locator("#key-name").fill(name);
  await page.locator("#key-form button[type=submit]").click();
  await confirmPassword(page);
  await page.locator(`#methods li[data-method-id]`).filter({ hasText: name }).waitFor();
}

/** Enters the password in the "Confirm your password" dialog, which a new tab always asks for first. */
export async function confirmPassword(page) {
  const dialog = page.locator("dialog[open]").filter({ has: page.locator("input[type=password]") });
  await dialog.locator("input[type=password]").fill(PASSWORD);
  await dialog.locator("button[type=submit]").click();
  await dialog.waitFor({ state: "detached" });
}

/**
 * Logs `user` (who has `user.totp`, an authenticator app) in again in their
 * own browser context with a fresh code, asking to remember the browser:
 * their Security page then lists it as "This browser". A code, not a backup
 * code: other views regenerate the backup codes. Once per user.
 */
export async function rememberBrowser(user) {
  if (user.remembered) return;
  const login = await call(user.context, "POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  assert.equal(login.status, "second_factor_required");
  const code = await freshTOTP(user.totp.secret);
  const verified = await call(user.context, "POST", "/api/auth/verify", { method: "totp", code, rememberBrowser: true });
  assert.equal(verified.browserRemembered, true);
  user.remembered = true;
}
