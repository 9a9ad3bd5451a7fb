// The admin's members table with an email address far longer than the card is
// wide: the address breaks inside its cell instead of pushing the table (and
// the actions menu) past the card, at a desktop width where the table is a table.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, join } from "./accounts.mjs";
import { uniqueEmail, useBrowser } from "./support.mjs";

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
