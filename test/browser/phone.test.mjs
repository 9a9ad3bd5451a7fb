// What a person on a phone reads after acting, in French: the result is said
// where they are (the card they acted in, where focus goes), not in the page's
// #flash a screen or more above; a browser described rather than named reads
// as words inside a sentence ("Oublier un navigateur…", never "Oublier Un
// navigateur…"); a remembered browser not used yet says so; focus does not
// fall to the page's body after asking for a reset link; and the members list,
// drawn as cards on a phone, puts the language's punctuation after each label.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call } from "./accounts.mjs";
import { assertNoProblems, newPage, PASSWORD, useBrowser } from "./support.mjs";

const chrome = useBrowser();
const PHONE = { locale: "fr-FR", width: 375, height: 700 };
// Headless Chromium's User-Agent is not on the API's list of browsers: it names it by its system only.
const HEADLESS = "un navigateur ou une application sous Linux";

/** The element is (at least partly) on the screen as the page is scrolled now. */
async function onScreen(locator) {
  return locator.evaluate((el) => {
    const box = el.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.height > 0;
  });
}

test("Forget a remembered browser on a phone: named in lower case in the question, not used yet, the result said in its card", async () => {
  const user = await account(chrome.browser, { name: "Jeanne Martin", prefix: "phone-trusted", ...PHONE });
  const { backupCodes } = await addAuthenticatorApp(user);
  // Logged in again with the second step, remembering this browser (it has not skipped a second step yet).
  await call(user.context, "POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  const verified = await call(user.context, "POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0], rememberBrowser: true });
  assert.equal(verified.browserRemembered, true);

  const page = user.page;
  await page.goto("/security");
  const card = page.locator("#trusted-card");
  const item = card.locator("#trusted-list li").first();
  await item.waitFor();
  await item.getByText(/ · Pas encore utilisé · Jusqu’au /).waitFor();

  // The security log says where from with the same words, in lower case after the address.
  const from = await page.locator("#events li .when").first().textContent();
  assert.match(from, new RegExp(`, ${HEADLESS}$`), `the log line reads "${from}"`);

  await item.getByRole("button", { name: new RegExp(`^Oublier ${HEADLESS}$`) }).click();
  const dialog = page.getByRole("dialog", { name: `Oublier ${HEADLESS}\u00a0?` });
  await dialog.getByRole("button", { name: "Oublier" }).click();
  const said = card.getByRole("status");
  await said.getByText("Un navigateur ou une application sous Linux est oublié.").waitFor();
  assert.ok(await onScreen(said), "the result is on the screen, beside the card that has focus");
  assert.equal(await page.locator("#flash").textContent(), "", "not said again at the top of the page");
  assertNoProblems(page);
});

test("change the password on a phone: the result is said in the password card, on the screen", async () => {
  const user = await account(chrome.browser, { name: "Jeanne Martin", prefix: "phone-password", ...PHONE });
  const page = user.page;
  await page.goto("/security");
  const card = page.locator("#password-card");
  await card.getByLabel("Mot de passe actuel").fill(PASSWORD);
  await card.getByLabel("Nouveau mot de passe").fill(`${PASSWORD} encore`);
  await card.getByRole("button", { name: "Changer le mot de passe" }).click();
  const said = card.getByRole("status");
  await said.getByText("Votre mot de passe a été changé. Vos autres sessions ont été déconnectées.").waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "password-title");
  assert.ok(await onScreen(said), "the result is on the screen, beside the heading that has focus");
  assertNoProblems(page);
});

test("forgot password: after asking for a link, focus is on the card's heading, not lost to the page", async () => {
  const user = await account(chrome.browser, { name: "Jeanne Martin", prefix: "phone-forgot" });
  const page = await newPage(chrome.browser, PHONE);
  await page.goto("/reset-password");
  await page.getByLabel("Adresse e-mail").fill(user.email);
  await page.getByRole("button", { name: "M’envoyer un lien" }).click();
  await page.locator("#flash .notice").waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "reset-request-title");
  assertNoProblems(page);
});

test("the members list as cards on a phone: each label ends with the French colon, after a no-break space", async () => {
  const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Nord", prefix: "phone-admin", ...PHONE });
  const page = owner.page;
  await page.goto("/admin");
  const cell = page.locator("#members tbody tr").first().locator("td[data-label]").nth(1);
  await cell.waitFor();
  const before = await cell.evaluate((td) => getComputedStyle(td, "::before").content);
  assert.equal(before, '"Rôle\u00a0: "');
  assertNoProblems(page);
});
