// What the page says right after something happened to the session, in both
// languages: a backup code spent (and how many are left), a session ended from
// elsewhere, a logout. Each is said once, in a status region, and is gone on
// reload (docs/pages.md "Said once, where the person lands").
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call } from "./accounts.mjs";
import { axeViolations, foreignWords } from "./checks.mjs";
import { assertNoProblems, newPage, PASSWORD, useBrowser } from "./support.mjs";

const chrome = useBrowser();

const LANGS = [
  [
    "en-US",
    {
      useBackup: "Use a backup code",
      backupLabel: "Backup code",
      verify: "Verify",
      account: "Account",
      logOut: "Log out",
      left: (n) => `You used a backup code. ${n} left.`,
      renew: "Generate new backup codes",
      signedOut: "You were signed out. Log in again to continue.",
      loggedOut: "You are logged out.",
    },
  ],
  [
    "fr-FR",
    {
      useBackup: "Utiliser un code de secours",
      backupLabel: "Code de secours",
      verify: "Vérifier",
      account: "Compte",
      logOut: "Se déconnecter",
      left: (n) => `Vous avez utilisé un code de secours. Il en reste ${n}.`,
      renew: "Générer de nouveaux codes de secours",
      signedOut: "Votre session a pris fin. Reconnectez-vous pour continuer.",
      loggedOut: "Vous êtes déconnecté.",
    },
  ],
];

/** The login page's password step, then the backup code form. */
async function logInWithBackupCode(page, email, code, words) {
  await page.goto("/");
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.locator("#login button[type=submit]").click();
  await page.getByRole("button", { name: words.useBackup }).click();
  await page.getByLabel(words.backupLabel, { exact: true }).fill(code);
  await page.getByRole("button", { name: words.verify }).click();
  await page.locator("#home").waitFor();
}

/** Spends a backup code through the API, in the account's own context. */
async function spendBackupCode(user, code) {
  await call(user.context, "POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  await call(user.context, "POST", "/api/auth/verify", { method: "backup_code", code });
}

/** The text of the status regions on the page, joined. */
const statusText = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("[role=status]")]
      .map((r) => r.textContent.trim())
      .join(" ")
      .trim(),
  );

for (const [locale, words] of LANGS) {
  test(`logging in with a backup code says so and how many are left, with a link to make new ones when few are (${locale})`, async () => {
    const user = await account(chrome.browser, { name: "Bo Backup", prefix: "notice-backup" });
    const { backupCodes } = await addAuthenticatorApp(user);
    const page = await newPage(chrome.browser, { locale });

    await logInWithBackupCode(page, user.email, backupCodes[0], words);
    const notice = page.getByRole("status").filter({ hasText: words.left(9) });
    await notice.waitFor();
    assert.equal(await notice.getByRole("link").count(), 0, "nine left: nothing to do yet");
    await page.reload();
    await page.locator("#home").waitFor();
    assert.doesNotMatch(await statusText(page), new RegExp(words.left(9).replace(/[.]/g, "\\.")), "said once, not on every visit");

    // Seven spent: three left after the next one is the threshold of the Security page's warning.
    for (const code of backupCodes.slice(1, 7)) await spendBackupCode(user, code);
    await page.getByRole("navigation").getByRole("button", { name: words.logOut }).click();
    await page.locator("#login").waitFor();
    await logInWithBackupCode(page, user.email, backupCodes[7], words);
    const low = page.getByRole("status").filter({ hasText: words.left(2) });
    await low.waitFor();
    assert.equal(await low.getByRole("link", { name: words.renew }).getAttribute("href"), "/security");
    // A state no view of pages.test.mjs reaches: its words and contrast checked here.
    assert.deepEqual(await foreignWords(page), []);
    for (const colorScheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme });
      assert.deepEqual(await axeViolations(page), [], colorScheme);
    }
    assertNoProblems(page);
  });

  test(`a session ended from elsewhere is said on the login page it leads to, and only then (${locale})`, async () => {
    const user = await account(chrome.browser, { name: "Sam Session", prefix: "notice-ended", locale });
    const page = user.page;
    await page.goto("/security");
    await page.locator("#sessions li[data-current=true]").waitFor();

    // A second browser of the same account signs every other one out.
    const other = await newPage(chrome.browser);
    await call(other.context(), "POST", "/api/auth/login", { email: user.email, password: PASSWORD });
    await call(other.context(), "POST", "/api/security/reauth", { password: PASSWORD });
    await call(other.context(), "POST", "/api/security/sessions/revoke-others");

    await page.getByRole("navigation").getByRole("link", { name: words.account }).click();
    await page.locator("#login").waitFor();
    await page.getByRole("status").filter({ hasText: words.signedOut }).waitFor();

    // The next action clears it; a reload does not bring it back.
    await page.locator("#login-email").fill(user.email);
    await page.locator("#login-password").fill("not the password at all");
    await page.locator("#login button[type=submit]").click();
    await page.locator("#login-form .messages p").waitFor();
    assert.doesNotMatch(await statusText(page), new RegExp(words.signedOut.slice(0, 20)));
    await page.reload();
    await page.locator("#login").waitFor();
    assert.equal(await statusText(page), "");

    // A first visit says nothing.
    const fresh = await newPage(chrome.browser, { locale });
    await fresh.goto("/");
    await fresh.locator("#login").waitFor();
    assert.equal(await statusText(fresh), "");
    assertNoProblems(page);
  });

  test(`logging out says so on the login page, once (${locale})`, async () => {
    const user = await account(chrome.browser, { name: "Lee Logout", prefix: "notice-logout", locale });
    const page = user.page;
    await page.goto("/");
    await page.locator("#home").waitFor();
    await page.getByRole("navigation").getByRole("button", { name: words.logOut }).click();
    await page.locator("#login").waitFor();
    await page.getByRole("status").filter({ hasText: words.loggedOut }).waitFor();
    await page.reload();
    await page.locator("#login").waitFor();
    assert.equal(await statusText(page), "");
    assertNoProblems(page);
  });
}
