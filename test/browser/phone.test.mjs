// What a person on a phone reads after acting, in French: the result is said
// where they are (the card they acted in, where focus goes), not in the page's
// #flash a screen or more above; a browser described rather than named reads
// as words inside a sentence ("Oublier un navigateur…", never "Oublier Un
// navigateur…"); a remembered browser not used yet says so; focus does not
// fall to the page's body after asking for a reset link; and the members list,
// drawn as cards on a phone, puts the language's punctuation after each label.
// Every action of the Security and admin pages says its result in its card: adding a method, 2FA turned
// on with its backup codes and "you are logged in again" after a reset too, and a member's reset beside
// the member's row however far down the list it is.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call, confirmPassword, join, resetTwoFactor } from "./accounts.mjs";
import { assertNoProblems, freshTOTP, newPage, PASSWORD, useBrowser, virtualAuthenticator } from "./support.mjs";

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

/**
 * Once focus is where the action leaves it (`focused`, a selector), the result is in the card's own
 * status region, on the screen, and not said again in the page's #flash.
 */
async function saidInCard(page, card, text, focused) {
  const said = card.getByRole("status").filter({ hasText: text });
  await said.getByText(text).waitFor();
  await page.waitForFunction((selector) => document.activeElement?.matches(selector), focused);
  assert.ok(await onScreen(said), `"${text}" is on the screen, in the card where the person is`);
  assert.equal(await page.locator("#flash").textContent(), "", "not said again at the top of the page");
}

test("rename, remove, new backup codes and turning 2FA off on a phone: each result said in its card, on the screen", async () => {
  const user = await account(chrome.browser, { name: "Jeanne Martin", prefix: "phone-methods", ...PHONE });
  await addAuthenticatorApp(user, "Téléphone");
  await addAuthenticatorApp(user, "Tablette");
  const page = user.page;
  await page.goto("/security");
  const methods = page.locator("#methods-card");

  await methods.getByRole("button", { name: "Renommer Tablette" }).click();
  await confirmPassword(page);
  const rename = page.getByRole("dialog", { name: "Renommer la méthode" });
  await rename.getByLabel("Nouveau nom").fill("Vieille tablette");
  await rename.getByRole("button", { name: "Enregistrer" }).click();
  await saidInCard(page, methods, /^Renommée en «.Vieille tablette.»\.$/, '#methods button[aria-label="Renommer Vieille tablette"]');

  await methods.getByRole("button", { name: "Retirer Vieille tablette" }).click();
  await page.locator("dialog[open]").getByRole("button", { name: "Retirer" }).click();
  await saidInCard(page, methods, /^«.Vieille tablette.» a été retirée\.$/, "#methods-title");

  await page.getByRole("button", { name: "Générer de nouveaux codes de secours" }).click();
  await page.locator("dialog[open]").getByRole("button", { name: "Générer de nouveaux codes" }).click();
  const codes = page.locator("#codes-card");
  await saidInCard(page, codes, "Nouveaux codes de secours générés. Les anciens codes ne fonctionnent plus.", "#codes-title");
  await codes.locator("#codes-saved").check();
  await codes.locator("#codes-done").click();
  await page.locator("#disable-card").waitFor();
  assert.equal(await page.locator("#codes-status").textContent(), "", "the result leaves with the codes");

  await page.getByRole("button", { name: "Désactiver l’authentification à deux facteurs" }).click();
  const disable = page.locator("dialog[open]");
  await disable.locator("input[type=password]").fill(PASSWORD);
  await disable.getByRole("button", { name: "Désactiver" }).click();
  await saidInCard(
    page,
    page.locator("#status-card"),
    "L’authentification à deux facteurs est désactivée. Vos méthodes et vos codes de secours ont été retirés.",
    "#status-title",
  );
  assertNoProblems(page);
});

test("the admin's actions on a phone: the policy, a reset, a removal and an invitation each said in their card, on the screen", async () => {
  const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Sud", prefix: "phone-actions", ...PHONE });
  const member = await account(chrome.browser, { name: "Bruno Petit", prefix: "phone-member" });
  await join(owner, member);
  await addAuthenticatorApp(member);
  // Resetting a member's 2FA asks for the admin's own (this also confirms the admin's password).
  await addAuthenticatorApp(owner);
  const page = owner.page;
  await page.goto("/admin");
  const row = page.locator(`#members tr[data-member="${member.email}"]`);
  await row.waitFor();

  const policy = page.locator("#policy-card");
  await policy.getByRole("button", { name: "Enregistrer la règle" }).click();
  await saidInCard(page, policy, /^La règle a été enregistrée\./, "#policy-form button[type=submit]");

  const members = page.locator("#members-card");
  await row.getByRole("button", { name: "Actions pour Bruno Petit" }).click();
  await row.getByRole("menuitem", { name: "Réinitialiser la 2FA du membre" }).click();
  const reset = page.locator("dialog[open]");
  await reset.getByRole("button", { name: "Réinitialiser" }).click();
  await reset.getByLabel("Votre mot de passe").fill(PASSWORD);
  await reset.getByRole("button", { name: "Réinitialiser la 2FA" }).click();
  await reset.getByRole("button", { name: "Terminé" }).click();
  // Focus goes back to the member's … button (redrawn with the list).
  await saidInCard(page, members, /^L’authentification à deux facteurs de Bruno Petit a été réinitialisée\./, `tr[data-member="${member.email}"] .menu-button`);

  await row.getByRole("button", { name: "Actions pour Bruno Petit" }).click();
  await row.getByRole("menuitem", { name: "Retirer de la communauté" }).click();
  await page.locator("dialog[open]").getByRole("button", { name: "Retirer" }).click();
  await saidInCard(page, members, "Bruno Petit a été retiré(e) de la communauté.", "#members-title");

  const invite = page.locator("#invite-card");
  await invite.getByLabel("Adresse e-mail").fill(member.email);
  await invite.getByRole("button", { name: "Envoyer l’invitation" }).click();
  await saidInCard(page, invite, /^Invitation envoyée à /, "#invite-email");
  assertNoProblems(page);
});

/** Adds an authenticator app on the Security page as a person does; the backup codes card opens if 2FA just turned on. */
async function addAppOnPage(page, name) {
  await page.locator("#add-totp").click();
  await page.locator("#totp-name").fill(name);
  await page.locator("#totp-name-form button[type=submit]").click();
  const secret = page.locator("#totp-secret");
  // A new tab asks for the password first; an enrollment session (after a reset) does not.
  await page.locator("dialog[open] input[type=password], #totp-scan:not([hidden])").first().waitFor();
  if (await page.locator("dialog[open]").isVisible()) await confirmPassword(page);
  await page.locator("#totp-scan").waitFor();
  await page.locator("#totp-code").fill(await freshTOTP((await secret.textContent()).replace(/\s+/g, "")));
  await page.locator("#totp-confirm-form button[type=submit]").click();
}

/** Ticks "I have saved these codes" and Done. */
async function codesSaved(page) {
  await page.locator("#codes-saved").check();
  await page.locator("#codes-done").click();
  await page.locator("#codes-card").waitFor({ state: "hidden" });
}

test("turning 2FA on and adding a key on a phone: “2FA is now on” is said in the backup codes card, the key in the methods card", async () => {
  const user = await account(chrome.browser, { name: "Jeanne Martin", prefix: "phone-add", ...PHONE });
  const page = user.page;
  await virtualAuthenticator(page);
  await page.goto("/security");
  await addAppOnPage(page, "Téléphone");
  const codes = page.locator("#codes-card");
  await saidInCard(page, codes, /^Application d’authentification «.Téléphone.» ajoutée\. L’authentification à deux facteurs est activée\.$/, "#codes-title");
  await codesSaved(page);
  // The codes card and its Done button left: focus goes to the status that now says "on", not to the body.
  await page.waitForFunction(() => document.activeElement?.id === "status-title");
  assert.equal(await page.locator("#tfa-result").textContent(), "", "nothing more to say there");

  await page.locator("#add-key").click();
  await page.locator("#key-name").fill("Clé USB");
  await page.locator("#key-form button[type=submit]").click();
  await saidInCard(page, page.locator("#methods-card"), /^Clé de sécurité «.Clé USB.» ajoutée\.$/i, "#methods-title");
  assertNoProblems(page);
});

test("back in after a reset, on a phone: “you are logged in again” is said in the status card, where focus goes", async () => {
  const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Est", prefix: "phone-backin-admin" });
  const member = await account(chrome.browser, { name: "Bruno Petit", prefix: "phone-backin", ...PHONE });
  await join(owner, member);
  await addAuthenticatorApp(member);
  await addAuthenticatorApp(owner);
  const recoveryCode = await resetTwoFactor(owner, member);
  const page = member.page;
  await page.goto("/");
  const login = page.getByRole("region", { name: "Connexion" });
  await login.getByLabel("Adresse e-mail").fill(member.email);
  await login.getByLabel("Mot de passe").fill(PASSWORD);
  await login.getByRole("button", { name: "Se connecter", exact: true }).click();
  await page.getByLabel("Code de récupération").fill(recoveryCode);
  await page.getByRole("button", { name: "Vérifier" }).click();
  await page.waitForURL(/\/security/);
  await addAppOnPage(page, "Nouveau téléphone");
  await saidInCard(page, page.locator("#codes-card"), /L’authentification à deux facteurs est activée\.$/, "#codes-title");
  await codesSaved(page);
  await saidInCard(
    page,
    page.locator("#status-card"),
    "Vous êtes de nouveau connecté. Votre nouvelle méthode est configurée et vos codes de secours sont enregistrés.",
    "#status-title",
  );
  assertNoProblems(page);
});

test("a member's reset far down the list, on a phone: the result is said beside the member's row, on the screen", async () => {
  const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Ouest", prefix: "phone-far", ...PHONE });
  await addAuthenticatorApp(owner);
  const members = [];
  for (const name of ["Bruno Petit", "Chloé Roux", "David Blanc", "Emma Noir", "Fanny Vert"]) {
    const member = await account(chrome.browser, { name, prefix: "phone-far-member" });
    await join(owner, member);
    members.push(member);
  }
  // The list is sorted by the API; the last row drawn is the one furthest from the card's heading.
  const page = owner.page;
  await page.goto("/admin");
  const rows = page.locator("#members tbody tr[data-member]");
  await rows.nth(members.length).waitFor();
  const last = rows.last();
  const email = await last.getAttribute("data-member");
  const name = members.find((m) => m.email === email).name;
  const far = await last.evaluate((tr) => tr.getBoundingClientRect().top - document.getElementById("members-title").getBoundingClientRect().bottom);
  assert.ok(far > 700, `the row is more than a screen below the heading (${far} px)`);

  await last.getByRole("button", { name: `Actions pour ${name}` }).click();
  await last.getByRole("menuitem", { name: "Réinitialiser la 2FA du membre" }).click();
  const reset = page.locator("dialog[open]");
  await reset.getByRole("button", { name: "Réinitialiser" }).click();
  await reset.getByLabel("Votre mot de passe").fill(PASSWORD);
  await reset.getByRole("button", { name: "Réinitialiser la 2FA" }).click();
  await reset.getByRole("button", { name: "Terminé" }).click();
  const text = `L’authentification à deux facteurs de ${name} a été réinitialisée. Un code de récupération est en attente.`;
  await saidInCard(page, page.locator("#members-card"), text, `tr[data-member="${email}"] .menu-button`);
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
