// The single-use token an email's link carries after `#` (docs/security.md
// R9a, R12g): once the page has read it, nothing the page shows or links to
// holds it, so a copied or shared link, or one opened in a new tab, gives no
// one the token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, call } from "./accounts.mjs";
import { mailedToken } from "./mail.mjs";
import { assertNoProblems, newPage, useBrowser } from "./support.mjs";

const chrome = useBrowser();
// Shaped like a real token (id, dot, secret), so every page takes it as one.
const TOKEN = `00000000-0000-4000-8000-000000000000.${"T".repeat(43)}`;

test("a link's token is in no link of the page it opens: the language switch points to the page without it", async () => {
  const page = await newPage(chrome.browser);
  for (const path of ["/reset-password", "/verify-email", "/device", "/invitations"]) {
    await page.goto(`${path}#token=${TOKEN}`);
    await page.getByRole("list", { name: "Language" }).getByRole("link", { name: "Français" }).waitFor();
    // The page has read the token and cleaned its address.
    await page.waitForFunction(() => location.hash === "");
    const hrefs = await page.$$eval("a[href]", (links) => links.map((a) => a.href));
    assert.ok(hrefs.length > 0, path);
    assert.deepEqual(
      hrefs.filter((href) => href.includes(TOKEN) || href.includes("#")),
      [],
      `${path}: a link holds the token ("Copy link address", a middle click or a drag would carry it away)`,
    );
    assert.ok(!page.url().includes(TOKEN), path);
  }
  assertNoProblems(page);
});

// The switch's click (not its href) takes the token the page still holds along, as `#token=…`: the page in the
// other language takes it again and cleans its address, so the link from the email still works after a change of
// language. Before, the person landed on the page without it ("this address has no link in it").
async function toFrench(page, token) {
  await page.getByRole("list", { name: "Language" }).getByRole("link", { name: "Français" }).click();
  await page.getByRole("list", { name: "Langue" }).getByRole("link", { name: "English" }).waitFor();
  await page.waitForFunction(() => document.documentElement.lang === "fr" && location.hash === "" && location.search === "");
  assert.ok(!page.url().includes(token), "the address bar is clean again");
  const hrefs = await page.$$eval("a[href]", (links) => links.map((a) => a.href));
  assert.deepEqual(
    hrefs.filter((href) => href.includes(token) || href.includes("#")),
    [],
    "and no link of the French page holds it",
  );
}

test("/verify-email: after a switch to French, the emailed link still confirms the address", async () => {
  const user = await account(chrome.browser, { name: "Vera Switch", prefix: "switch-verify", verified: false });
  const token = await mailedToken("verify-email", user.id);
  const page = await newPage(chrome.browser);
  await page.goto(`/verify-email#token=${token}`);
  await page.getByRole("button", { name: "Confirm my email address" }).waitFor();
  await toFrench(page, token);
  await page.getByRole("button", { name: "Confirmer mon adresse e-mail" }).click();
  await page.getByRole("status").getByText("Votre adresse e-mail est confirmée. Merci.").waitFor();
  assert.equal((await call(user.context, "GET", "/api/me")).user.emailVerified, true);
  assertNoProblems(page);
});

test("/reset-password: after a switch to French, the emailed link still sets the new password", async () => {
  const user = await account(chrome.browser, { name: "Rémi Switch", prefix: "switch-reset" });
  const page = await newPage(chrome.browser);
  await page.context().request.post("/api/auth/password-reset", { data: { email: user.email } });
  const token = await mailedToken("reset-password", user.id);
  await page.goto(`/reset-password#token=${token}`);
  await page.getByRole("region", { name: "Choose a new password" }).waitFor();
  await toFrench(page, token);
  const choose = page.getByRole("region", { name: "Choisissez un nouveau mot de passe" });
  await choose.getByLabel("Nouveau mot de passe").fill("a new password after the switch");
  await choose.getByRole("button", { name: "Enregistrer le nouveau mot de passe" }).click();
  await page.getByRole("heading", { name: "Votre mot de passe a été changé" }).waitFor();
  const login = await page.context().request.post("/api/auth/login", { data: { email: user.email, password: "a new password after the switch" } });
  assert.equal(login.status(), 200);
  assertNoProblems(page);
});

test("/invitations: after a switch to French, the emailed link still joins the community", async () => {
  const owner = await account(chrome.browser, { name: "Odile Switch", community: "Switch Club", prefix: "switch-owner" });
  const invitee = await account(chrome.browser, { name: "Igor Switch", prefix: "switch-invitee" });
  const { invitation } = await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: invitee.email, role: "member" });
  const token = await mailedToken("invitations", invitation.id);
  const page = invitee.page;
  await page.goto(`/invitations#token=${token}`);
  await page.getByRole("button", { name: "Accept the invitation" }).waitFor();
  await toFrench(page, token);
  await page.getByRole("button", { name: "Accepter l’invitation" }).click();
  await page
    .getByRole("status")
    .getByText(/Vous avez rejoint la communauté/)
    .waitFor();
  assertNoProblems(page);
});

test("/device: after a switch to French the page still holds the link; a click that opens a new tab carries nothing", async () => {
  const page = await newPage(chrome.browser);
  await page.goto(`/device#token=${TOKEN}`);
  await page.getByRole("button", { name: "Let this browser log in to my account" }).waitFor();
  // Ctrl/Cmd-click opens the href in a new tab: the token stays in this one (R12g).
  const [opened] = await Promise.all([
    page.context().waitForEvent("page"),
    page
      .getByRole("list", { name: "Language" })
      .getByRole("link", { name: "Français" })
      .click({ modifiers: ["ControlOrMeta"] }),
  ]);
  await opened.waitForLoadState();
  assert.ok(!opened.url().includes("#"), opened.url());
  await opened
    .getByRole("alert")
    .getByText(/has no link in it|n’en contient pas/)
    .waitFor();
  await opened.close();
  await toFrench(page, TOKEN);
  await page.getByRole("button", { name: "Autoriser ce navigateur à se connecter à mon compte" }).waitFor();
  assert.equal(await page.getByRole("alert").textContent(), "", "not “this address has no link in it”");
  assertNoProblems(page);
});

// Once the link is spent (used, or refused for good), the switch has no token to take along: the page in the
// other language says again what became of the link, with the way on, not "this address has no link in it".
async function spentToFrench(page) {
  await page.getByRole("list", { name: "Language" }).getByRole("link", { name: "Français" }).click();
  await page.getByRole("list", { name: "Langue" }).getByRole("link", { name: "English" }).waitFor();
  await page.waitForFunction(() => document.documentElement.lang === "fr" && location.hash === "");
}

const NO_LINK = /n’en contient pas/;

test("a spent link's page in the other language: the email confirmed, the password changed, the invitation accepted", async () => {
  const user = await account(chrome.browser, { name: "Vera Spent", prefix: "spent-verify", verified: false });
  const page = await newPage(chrome.browser);
  await page.goto(`/verify-email#token=${await mailedToken("verify-email", user.id)}`);
  await page.getByRole("button", { name: "Confirm my email address" }).click();
  await page.getByRole("status").getByText("Your email address is confirmed. Thank you.").waitFor();
  await spentToFrench(page);
  await page.getByRole("status").getByText("Votre adresse e-mail est confirmée. Merci.").waitFor();
  await page.getByRole("link", { name: "Aller à votre compte" }).waitFor();
  assert.doesNotMatch(await page.locator("main").textContent(), NO_LINK);

  // A browser still in English (the switch is remembered).
  const reset = await newPage(chrome.browser);
  await reset.context().request.post("/api/auth/password-reset", { data: { email: user.email } });
  await reset.goto(`/reset-password#token=${await mailedToken("reset-password", user.id)}`);
  await reset.getByRole("region", { name: "Choose a new password" }).getByLabel("New password").fill("a new password before the switch");
  await reset.getByRole("button", { name: "Save the new password" }).click();
  await reset.getByRole("heading", { name: "Your password was changed" }).waitFor();
  await spentToFrench(reset);
  await reset.getByRole("heading", { name: "Votre mot de passe a été changé" }).waitFor();
  await reset.getByRole("link", { name: "Se connecter" }).waitFor();

  const owner = await account(chrome.browser, { name: "Odile Spent", community: "Spent Club", prefix: "spent-owner" });
  const invitee = await account(chrome.browser, { name: "Igor Spent", prefix: "spent-invitee" });
  const { invitation } = await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: invitee.email, role: "member" });
  await invitee.page.goto(`/invitations#token=${await mailedToken("invitations", invitation.id)}`);
  await invitee.page.getByRole("button", { name: "Accept the invitation" }).click();
  await invitee.page
    .getByRole("status")
    .getByText(/You joined the community/)
    .waitFor();
  await spentToFrench(invitee.page);
  await invitee.page
    .getByRole("status")
    .getByText(/Vous avez rejoint la communauté/)
    .waitFor();
  await invitee.page.getByRole("link", { name: "Aller à votre compte" }).waitFor();
  assert.doesNotMatch(await invitee.page.locator("main").textContent(), NO_LINK);
  assertNoProblems(page);
  assertNoProblems(reset);
  assertNoProblems(invitee.page);
});

test("a refused link's page in the other language: it says the link no longer works and the way on", async () => {
  const page = await newPage(chrome.browser);
  await page.goto(`/device#token=${TOKEN}`);
  await page.getByRole("button", { name: "Let this browser log in to my account" }).click();
  await page
    .getByRole("alert")
    .getByText(/This link no longer works/)
    .waitFor();
  await spentToFrench(page);
  await page
    .getByRole("alert")
    .getByText(/^Ce lien ne fonctionne plus/)
    .waitFor();
  assert.doesNotMatch(await page.locator("main").textContent(), NO_LINK);

  await page.goto(`/reset-password#token=${TOKEN}`);
  await page.getByRole("region", { name: "Choisissez un nouveau mot de passe" }).getByLabel("Nouveau mot de passe").fill("a password for a dead link");
  await page.getByRole("button", { name: "Enregistrer le nouveau mot de passe" }).click();
  await page
    .getByRole("alert")
    .getByText(/^Ce lien ne fonctionne plus/)
    .waitFor();
  await page.getByRole("list", { name: "Langue" }).getByRole("link", { name: "English" }).click();
  await page.waitForFunction(() => document.documentElement.lang === "en" && location.search === "");
  // The way on is a new link, asked for on this page, its email field focused.
  await page
    .getByRole("alert")
    .getByText(/This link no longer works.*Ask for a new one below\.$/)
    .waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "reset-email");
  assertNoProblems(page);
});
