// The admin's members table with an email address far longer than the card is
// wide: the address breaks inside its cell instead of pushing the table (and
// the actions menu) past the card, at a desktop width where the table is a table.
// The page calls the people in it members, as the home page's link to it does;
// and the policy's grace is asked only when the policy requires 2FA.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call, join } from "./accounts.mjs";
import { assertNoProblems, uniqueEmail, useBrowser } from "./support.mjs";

const chrome = useBrowser();

test("a very long email address stays inside the members table's card", async () => {
  const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Nord", prefix: "owner", width: 1100, height: 800 });
  const long = uniqueEmail("a.very.long.mailbox.name.without.any.space.at.all.in.it").replace("@", "@mail.subdomain.of-an-organisation-with-a-long-name.");
  const member = await account(chrome.browser, { name: "Bruno Petit", email: long });
  await join(owner, member);
  const page = owner.page;
  await page.goto("/admin");
  await page.getByRole("cell", { name: long }).waitFor();
  const menu = page.getByRole("button", { name: "Actions for Bruno Petit" });
  const right = await menu.evaluate((button) => ({
    table: button.closest("table").getBoundingClientRect().right,
    button: button.getBoundingClientRect().right,
    card: button.closest("section").getBoundingClientRect().right,
  }));
  assert.ok(right.table <= right.card, `the table ends at ${Math.round(right.table)} px, past its card at ${Math.round(right.card)} px`);
  assert.ok(right.button <= right.card, `the actions button ends at ${Math.round(right.button)} px, past the card at ${Math.round(right.card)} px`);
});

for (const [locale, words] of [
  ["en-US", { manage: "Manage the members of Relais Nord", members: "Members", actions: "Actions for Bruno Petit", reset: "Reset member’s 2FA" }],
  ["fr-FR", { manage: "Gérer les membres de Relais Nord", members: "Membres", actions: "Actions pour Bruno Petit", reset: "Réinitialiser la 2FA du membre" }],
]) {
  test(`the admin page calls them members, from the home page's link to the actions menu (${locale})`, async () => {
    const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Nord", prefix: "owner", locale });
    await addAuthenticatorApp(owner);
    const member = await account(chrome.browser, { name: "Bruno Petit", prefix: "member" });
    await join(owner, member);
    const page = owner.page;
    await page.goto("/");
    await page.getByRole("link", { name: words.manage }).click();
    const card = page.getByRole("region", { name: words.members, exact: true });
    await card.getByRole("table", { name: words.members, exact: true }).waitFor();
    await card.getByRole("button", { name: words.actions }).click();
    await page.getByRole("menuitem", { name: words.reset }).waitFor();
  });
}

for (const [locale, words] of [
  ["en-US", { policy: "Two-factor policy", require: "Require two-factor authentication of every member", days: "Days to set it up" }],
  [
    "fr-FR",
    { policy: "Règle d’authentification à deux facteurs", require: "Exiger l’authentification à deux facteurs de chaque membre", days: "Jours pour l’activer" },
  ],
]) {
  test(`the days to set up 2FA are asked only when the policy requires it (${locale})`, async () => {
    const owner = await account(chrome.browser, { name: "Alice Martin", community: "Relais Nord", prefix: "owner", locale });
    const page = owner.page;
    await page.goto("/admin");
    const card = page.getByRole("region", { name: words.policy });
    const require = card.getByLabel(words.require);
    await require.waitFor();
    assert.equal(await card.getByLabel(words.days).isVisible(), false, "no days while 2FA is not required");
    await require.check();
    await card.getByLabel(words.days).waitFor();
    await require.uncheck();
    await card.getByLabel(words.days).waitFor({ state: "hidden" });
  });
}

// An address that got its share of invitation emails lately (docs/security.md R11o): the invitation is made,
// and the admin is told it was not emailed, so they can tell the person another way.
test("an invitation that was made but not emailed says so on /admin", async () => {
  const admin = await account(chrome.browser, { name: "Nia Noticer", community: "Notice Club", prefix: "notemailed" });
  const invitee = uniqueEmail("popular");
  for (let i = 0; i < 10; i++) await call(admin.context, "POST", `/api/communities/${admin.communityId}/invitations`, { email: invitee, role: "member" });
  const page = admin.page;
  await page.goto("/admin");
  await page.getByRole("heading", { name: "Notice Club: community admin" }).waitFor();
  await page.getByLabel("Email", { exact: true }).fill(invitee);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByText(`Invitation made for ${invitee}, but not emailed`).waitFor();
  await page.getByRole("list", { name: "Pending invitations" }).getByText(invitee).waitFor();
  assertNoProblems(page);
});
