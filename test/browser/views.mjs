// Every page and dialog a person can meet, as a list the accessibility test
// (test/browser/pages.test.mjs) walks in every language and colour scheme.
// A view names who looks at it (`as`: one of the people `cast` makes, or
// "anonymous" for a browser with no session) and how to get there from a blank
// page (`open`). Steps find things by id or structure, never by words, so the
// same view works in every language. Adding a page, a Security-page section or
// a dialog: add a view here (docs/pages.md).
import { account, addAuthenticatorApp, addKey, call, confirmPassword, join, rememberBrowser, resetTwoFactor } from "./accounts.mjs";
import { newPage, PASSWORD, wrongTOTP } from "./support.mjs";

/**
 * The people the views need, made afresh for each language through the API:
 * - owner: admin of two communities, with an authenticator app and a security key;
 * - member: in that community with an authenticator app (the admin resets them);
 * - recovering: in that community, reset by the admin, with a recovery code;
 * - newcomer: no 2FA, no community, one invitation waiting;
 * - partner: admin of the second community (which requires 2FA), without 2FA of their own;
 * - pending: a member of that community without 2FA, past the (zero-day) grace.
 * - unverified: has not confirmed their email yet (the banner).
 */
export async function cast(browser, locale) {
  const owner = await account(browser, { name: "Alice Martin", community: "Relais Nord", locale, prefix: "owner" });
  owner.totp = await addAuthenticatorApp(owner, "Pixel");
  await addKey(owner, "YubiKey");
  // Admin of a second community too, so the admin page shows its community picker.
  const partner = await account(browser, { name: "Rémi Garnier", community: "Relais Sud", locale, prefix: "partner" });
  await join(partner, owner, "admin");
  const member = await account(browser, { name: "Bruno Petit", locale, prefix: "member" });
  await join(owner, member);
  await addAuthenticatorApp(member);
  const recovering = await account(browser, { name: "Chloé Durand", locale, prefix: "recovering" });
  await join(owner, recovering);
  await addAuthenticatorApp(recovering);
  recovering.recoveryCode = await resetTwoFactor(owner, recovering);
  const newcomer = await account(browser, { name: "Dan Moreau", locale, prefix: "newcomer" });
  await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: newcomer.email, role: "member" });
  // The newcomer is also signed in from a second browser, so the sessions list has another session to end.
  const elsewhere = await newPage(browser, { locale });
  await call(elsewhere.context(), "POST", "/api/auth/login", { email: newcomer.email, password: PASSWORD });
  await elsewhere.context().close();
  // Relais Sud requires 2FA at once (set by the owner: its other admin, the partner, has none and is told so
  // on the admin page); pending joins it without 2FA, so their session shows the banner and a new login must enroll.
  await call(owner.context, "POST", "/api/security/reauth", { password: PASSWORD });
  await call(owner.context, "PUT", `/api/communities/${partner.communityId}/policy`, { requireTwoFactor: true, graceDays: 0, allowTrustedBrowsers: true });
  const pending = await account(browser, { name: "Eva Roux", locale, prefix: "pending" });
  await join(partner, pending);
  const unverified = await account(browser, { name: "Eve Nouvelle", locale, prefix: "unverified", verified: false });
  return { owner, member, recovering, newcomer, partner, pending, unverified };
}

async function logInWithPassword(page, email) {
  await page.goto("/");
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.locator("#login-form button[type=submit]").click();
}

const shown = (page, selector) => page.locator(selector).first().waitFor();

export const VIEWS = [
  // ---- the login page, before logging in
  { name: "login", as: "anonymous", open: (page) => page.goto("/").then(() => shown(page, "#login:visible")) },
  {
    name: "login: a wrong password, explained",
    as: "anonymous",
    open: async (page, { owner }) => {
      await page.goto("/");
      await page.locator("#login-email").fill(owner.email);
      await page.locator("#login-password").fill("not the password at all");
      await page.locator("#login-form button[type=submit]").click();
      await shown(page, "#login-form [role=alert] .notice");
    },
  },
  {
    name: "sign up",
    as: "anonymous",
    open: async (page) => {
      await page.goto("/");
      await page.locator("#to-signup").click();
      await page.locator("#signup-password").fill("too short");
      await shown(page, "#signup:visible");
    },
  },
  { name: "page not found", as: "anonymous", open: (page) => page.goto("/no-such-page").then(() => shown(page, "h1")) },

  // ---- the second step
  {
    name: "second step: authenticator app",
    as: "anonymous",
    open: async (page, { owner }) => {
      await logInWithPassword(page, owner.email);
      await shown(page, "#verify-totp:visible");
    },
  },
  {
    name: "second step: a wrong code, explained",
    as: "anonymous",
    open: async (page, { owner }) => {
      await logInWithPassword(page, owner.email);
      await page.locator("#totp-code").fill(wrongTOTP(owner.totp.secret));
      await page.locator("#verify-totp button[type=submit]").click();
      await shown(page, "#verify-error .notice");
    },
  },
  {
    name: "second step: backup code",
    as: "anonymous",
    open: async (page, { owner }) => {
      await logInWithPassword(page, owner.email);
      await page.locator("#verify-other-list [data-method=backup_code]").click();
      await shown(page, "#verify-backup_code:visible");
    },
  },
  {
    name: "second step: security key, waiting for the key",
    as: "anonymous",
    open: async (page, { owner }) => {
      // WebAuthn without any authenticator: the browser waits for a key, as a person's would.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("WebAuthn.enable");
      await logInWithPassword(page, owner.email);
      await page.locator("#verify-other-list [data-method=webauthn]").click();
      await shown(page, "#webauthn-start[aria-busy=true]");
    },
  },
  {
    name: "second step: recovery code after an admin reset",
    as: "anonymous",
    open: async (page, { recovering }) => {
      await logInWithPassword(page, recovering.email);
      await shown(page, "#verify-recovery_code:visible");
    },
  },

  // ---- the account page
  { name: "account: an admin", as: "owner", open: (page) => page.goto("/").then(() => shown(page, "#home-communities-card:visible")) },
  { name: "account: an invitation waiting", as: "newcomer", open: (page) => page.goto("/").then(() => shown(page, "#home-invitations li")) },

  // ---- the Security page and its dialogs
  { name: "security: two-factor off", as: "newcomer", open: (page) => page.goto("/security").then(() => shown(page, "#methods-empty:visible")) },
  { name: "security: two-factor on", as: "owner", open: (page) => page.goto("/security").then(() => shown(page, "#events li")) },
  {
    name: "dialog: confirm your password",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#add-totp").click();
      await page.locator("#totp-name-form button[type=submit]").click();
      await shown(page, "dialog[open] input[type=password]");
    },
  },
  {
    name: "security: add an authenticator app (QR code and key)",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#add-totp").click();
      await page.locator("#totp-name-form button[type=submit]").click();
      await confirmPassword(page);
      await shown(page, "#totp-scan:visible");
      await page.locator("#totp-qr").evaluate((img) => img.decode());
    },
  },
  {
    name: "security: add a security key",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#add-key").click();
      await shown(page, "#key-setup:visible");
    },
  },
  {
    name: "dialog: rename a method",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#methods li:first-child .row-actions button.secondary").click();
      await confirmPassword(page);
      await shown(page, "dialog[open] input[name=name]");
    },
  },
  {
    name: "dialog: remove a method",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#methods li:first-child .row-actions button.danger-outline").click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  {
    name: "dialog: generate new backup codes",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#codes-regenerate").click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  {
    name: "security: new backup codes, shown once",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#codes-regenerate").click();
      await page.locator("dialog[open] button[value=confirm]").click();
      await confirmPassword(page);
      await shown(page, "#codes-list li");
    },
  },
  {
    name: "security: where you are signed in",
    as: "newcomer",
    open: (page) => page.goto("/security").then(() => shown(page, "#sessions li[data-current=true]")),
  },
  {
    name: "dialog: sign out everywhere else, what happens",
    as: "newcomer",
    open: async (page) => {
      await page.goto("/security");
      await shown(page, "#sessions li[data-current=true]");
      // The cast signed the newcomer in from a second browser too, so the button is there.
      await page.locator("#sessions-others").click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  {
    name: "dialog: sign out one browser, what happens",
    as: "newcomer",
    open: async (page) => {
      await page.goto("/security");
      await shown(page, "#sessions li:not([data-current]) button");
      await page.locator("#sessions li:not([data-current]) button").first().click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  {
    name: "dialog: turn off two-factor, a wrong password explained",
    as: "owner",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#disable-open").click();
      await page.locator("dialog[open] input[type=password]").fill("not the password at all");
      await page.locator("dialog[open] button[type=submit]").click();
      await shown(page, "dialog[open] [role=alert] .notice");
    },
  },
  {
    name: "security: setting up a new method after a reset",
    as: "anonymous",
    open: async (page, { recovering }) => {
      const context = page.context();
      await call(context, "POST", "/api/auth/login", { email: recovering.email, password: PASSWORD });
      await call(context, "POST", "/api/auth/verify", { method: "recovery_code", code: recovering.recoveryCode });
      await page.goto("/security?setup=1");
      await shown(page, "#enroll-banner:visible");
    },
  },

  // ---- the admin page and the reset
  {
    name: "admin: community picker, members and invitations",
    as: "owner",
    open: (page) => page.goto("/admin").then(() => shown(page, "#picker:visible").then(() => shown(page, "#members tbody tr"))),
  },
  { name: "admin: not an admin", as: "newcomer", open: (page) => page.goto("/admin").then(() => shown(page, "#not-admin:visible")) },
  {
    name: "admin: a member's actions menu",
    as: "owner",
    open: async (page, { member }) => {
      await page.goto("/admin");
      await page.locator(`tr[data-member="${member.email}"] .menu-button`).click();
      await shown(page, "[role=menu]:visible");
    },
  },
  {
    name: "dialog: reset a member's 2FA, what happens",
    as: "owner",
    open: async (page, { member }) => {
      await page.goto("/admin");
      await page.locator(`tr[data-member="${member.email}"] .menu-button`).click();
      await page.locator("[role=menuitem][data-action=reset]:visible").click();
      await shown(page, "dialog[open] .danger");
    },
  },
  {
    name: "dialog: reset a member's 2FA, a wrong password explained",
    as: "owner",
    open: async (page, { member }) => {
      await page.goto("/admin");
      await page.locator(`tr[data-member="${member.email}"] .menu-button`).click();
      await page.locator("[role=menuitem][data-action=reset]:visible").click();
      await page.locator("dialog[open] .danger").click();
      await page.locator("#reset-password").fill("not the password at all");
      await page.locator("dialog[open] button[type=submit]").click();
      await shown(page, "dialog[open] [role=alert] .notice");
    },
  },
  {
    name: "dialog: reset a member's 2FA, the recovery code",
    as: "owner",
    open: async (page, { member }) => {
      await page.goto("/admin");
      await page.locator(`tr[data-member="${member.email}"] .menu-button`).click();
      await page.locator("[role=menuitem][data-action=reset]:visible").click();
      await page.locator("dialog[open] .danger").click();
      await page.locator("#reset-password").fill(PASSWORD);
      await page.locator("dialog[open] button[type=submit]").click();
      await shown(page, "dialog[open] output.recovery-code");
    },
  },

  // ---- remembered browsers: the owner's own browser, remembered at a login with their app
  {
    name: "security: remembered browsers",
    as: "owner",
    open: async (page, { owner }) => {
      await rememberBrowser(owner);
      await page.goto("/security");
      await shown(page, "#trusted-list li .badge");
    },
  },
  {
    name: "dialog: forget a remembered browser",
    as: "owner",
    open: async (page, { owner }) => {
      await rememberBrowser(owner);
      await page.goto("/security");
      await page.locator("#trusted-list li:first-child .row-actions button").click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  {
    name: "dialog: forget every remembered browser",
    as: "owner",
    open: async (page, { owner }) => {
      await rememberBrowser(owner);
      await page.goto("/security");
      await page.locator("#trusted-forget-all").click();
      await shown(page, "dialog[open] button[value=confirm]");
    },
  },
  // ---- a community's 2FA policy, leaving and removing
  { name: "account: a community requires 2FA (banner)", as: "pending", open: (page) => page.goto("/").then(() => shown(page, "#policy-banner")) },
  {
    name: "dialog: leave a community",
    as: "pending",
    open: async (page) => {
      await page.goto("/");
      await page.locator(".leave-community").first().click();
      await shown(page, "dialog[open] .danger");
    },
  },
  {
    name: "security: setting up the 2FA a community requires",
    as: "anonymous",
    open: async (page, { pending }) => {
      await logInWithPassword(page, pending.email);
      await page.waitForURL(/\/security/);
      await shown(page, "#enroll-banner:visible");
    },
  },
  {
    name: "admin: the policy in force, members' standing, an admin without 2FA told first",
    as: "partner",
    open: async (page) => {
      await page.goto("/admin");
      await shown(page, "#admin-no-2fa:visible");
      await shown(page, "#policy-card:visible");
      await shown(page, "#members td[data-standing=overdue]");
    },
  },
  {
    name: "admin: requiring 2FA without your own, explained",
    as: "partner",
    open: async (page) => {
      await page.goto("/admin");
      await shown(page, "#policy-card:visible");
      // Turning it off and on again: turning on needs the admin's own 2FA.
      await page.locator("#policy-require").uncheck();
      await page.locator("#policy-form button[type=submit]").click();
      await confirmPassword(page);
      await page.locator("#policy-status .notice").waitFor();
      await page.locator("#policy-require").check();
      await page.locator("#policy-form button[type=submit]").click();
      await shown(page, "#policy-error .notice");
    },
  },
  {
    name: "dialog: remove a member",
    as: "owner",
    open: async (page, { member }) => {
      await page.goto("/admin");
      await page.locator(`tr[data-member="${member.email}"] .menu-button`).click();
      await page.locator("[role=menuitem][data-action=remove]:visible").click();
      await shown(page, "dialog[open] .danger");
    },
  },
  // ---- the links sent by email
  {
    name: "banner: confirm your email address",
    as: "unverified",
    open: (page) => page.goto("/").then(() => shown(page, "#verify-banner")),
  },
  {
    name: "banner: a new link sent",
    as: "unverified",
    open: async (page) => {
      await page.goto("/security");
      await page.locator("#verify-resend").click();
      await shown(page, "#verify-banner [role=status] .notice");
    },
  },
  { name: "forgot password: ask for a link", as: "anonymous", open: (page) => page.goto("/reset-password").then(() => shown(page, "#reset-request:visible")) },
  {
    name: "forgot password: the link is on its way",
    as: "anonymous",
    open: async (page, { newcomer }) => {
      await page.goto("/reset-password");
      await page.locator("#reset-email").fill(newcomer.email);
      await page.locator("#reset-request-form button[type=submit]").click();
      await shown(page, "#flash .notice");
    },
  },
  {
    name: "forgot password: choose a new password",
    as: "anonymous",
    open: (page) => page.goto("/reset-password#token=from-the-email").then(() => shown(page, "#reset-confirm:visible")),
  },
  {
    name: "forgot password: a link that no longer works, explained",
    as: "anonymous",
    open: async (page) => {
      await page.goto("/reset-password#token=no-longer-valid");
      await page.locator("#reset-password").fill("a long enough new password");
      await page.locator("#reset-confirm-form button[type=submit]").click();
      await shown(page, "#reset-confirm-form [role=alert] .notice");
    },
  },
  {
    name: "confirm email: a link that no longer works",
    as: "anonymous",
    open: async (page) => {
      await page.goto("/verify-email#token=no-longer-valid");
      await page.locator("#verify-email-form button[type=submit]").click();
      await shown(page, "#verify-email-error .notice");
    },
  },
  {
    name: "confirm email: the link opened, waiting for the click",
    as: "anonymous",
    open: (page) => page.goto("/verify-email#token=from-the-email").then(() => shown(page, "#verify-email-form:visible")),
  },
  {
    name: "device link: a link that no longer works",
    as: "anonymous",
    open: async (page) => {
      await page.goto("/device#token=no-longer-valid");
      await page.locator("#device-form button[type=submit]").click();
      await shown(page, "#device-error .notice");
    },
  },
  {
    name: "device link: the link opened, waiting for the click",
    as: "anonymous",
    open: (page) => page.goto("/device#token=from-the-email").then(() => shown(page, "#device-form:visible")),
  },
  {
    name: "invitation link: log in first",
    as: "anonymous",
    open: (page) => page.goto("/invitations#token=AAAAAAAAAAAAAAAAAAAAAA.from-the-email").then(() => shown(page, "#invitation-login:visible")),
  },
  {
    name: "invitation link: accept",
    as: "newcomer",
    open: async (page, { newcomer }) => {
      const { invitations } = await call(newcomer.context, "GET", "/api/invitations");
      await page.goto(`/invitations#token=${invitations[0].id}.from-the-email`);
      await shown(page, "#invitation-accept:visible");
    },
  },
];
