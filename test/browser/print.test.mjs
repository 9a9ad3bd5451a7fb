// Print for the backup codes, next to Copy and Download: the printed page holds
// only the ten codes, whose account they open and when they were made, in
// black on white even when the screen is dark.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp } from "./accounts.mjs";
import { assertNoProblems, confirmPasswordIfAsked, useBrowser } from "./support.mjs";

const chrome = useBrowser();

test("Print sits beside Copy and Download, and the printed page shows only the codes, the account and the date", async () => {
  const user = await account(chrome.browser, { name: "Jean Dupont", prefix: "print", colorScheme: "dark" });
  await addAuthenticatorApp(user);
  const page = user.page;
  await page.goto("/security");
  await page.getByRole("button", { name: "Generate new backup codes" }).click();
  await page.getByRole("dialog", { name: "Generate new backup codes?" }).getByRole("button", { name: "Generate new codes" }).click();
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await confirmPasswordIfAsked(page, card.getByRole("listitem").nth(9));
  await card.getByRole("listitem").nth(9).waitFor();
  const codes = (await card.getByRole("list", { name: "Backup codes" }).getByRole("listitem").allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);

  const buttons = await card.locator(".actions-row button").allTextContents();
  assert.deepEqual(buttons, ["Copy", "Download", "Print"]);
  // The browser's print dialog cannot be driven headless: count the calls instead.
  await page.evaluate(() => {
    window.printed = 0;
    window.print = () => {
      window.printed += 1;
    };
  });
  await card.getByRole("button", { name: "Print" }).click();
  assert.equal(await page.evaluate(() => window.printed), 1);

  await page.emulateMedia({ media: "print", colorScheme: "dark" });
  // biome-ignore lint/performance/useDomNodeTextContent: what is printed is what the print stylesheet lets show, which only innerText sees.
  const printed = (await page.evaluate(() => document.body.innerText))
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  assert.equal(printed[0], `Edge 2FA backup codes for ${user.email}`);
  assert.match(printed[1], /^Generated [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M\. Each code works once\.$/u);
  assert.deepEqual(printed.slice(2).join(" ").split(/\s+/), codes, "then the ten codes, and nothing else");
  const ink = await card
    .getByRole("listitem")
    .first()
    .evaluate((li) => [getComputedStyle(li).color, getComputedStyle(document.body).backgroundColor]);
  assert.deepEqual(ink, ["rgb(0, 0, 0)", "rgb(255, 255, 255)"], "black on white, though the screen is dark");

  // On screen again: the whole card, and the codes leave when Done is pressed.
  await page.emulateMedia({ media: "screen" });
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();
  await card.waitFor({ state: "hidden" });
  assertNoProblems(page);
});
