// "Remember this browser for 30 days" on the real pages: ticked at the second
// step, the next login skips it; the Security page lists the browser as "This
// browser"; Forget (and Forget all) ask first, and the next login asks for
// the second step again.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call } from "./accounts.mjs";
import { assertNoProblems, logOut, submitLogin, useBrowser } from "./support.mjs";

const chrome = useBrowser();
const HEADLESS = "A browser or app on Linux";
// The same words inside a sentence ("Forget a browser or app on Linux?"): a description, not a name.
const HEADLESS_IN_SENTENCE = "a browser or app on Linux";

/** The second step with a backup code, the "remember" box ticked or not. */
async function secondStepWithBackupCode(page, code, remember) {
  const step = page.getByRole("region", { name: "Two-step verification" });
  await step.getByRole("button", { name: "Use a backup code" }).click();
  const box = step.getByRole("checkbox", { name: "Remember this browser for 30 days" });
  if (remember) await box.check();
  else assert.equal(await box.isChecked(), false, "the box is not ticked unless the person ticks it");
  await step.getByLabel("Backup code").fill(code);
  await step.getByRole("button", { name: "Verify" }).click();
}

test("remember this browser, skip the second step, forget it from the Security page, and Forget all", async () => {
  const user = await account(chrome.browser, { name: "Margaret Hamilton", prefix: "trusted" });
  const { backupCodes } = await addAuthenticatorApp(user);
  const page = user.page;
  await page.goto("/");
  await logOut(page);

  // The second step, remembering this browser.
  await submitLogin(page, user.email);
  await secondStepWithBackupCode(page, backupCodes[0], true);
  await page.getByText("This browser is remembered for 30 days.", { exact: false }).waitFor();
  await logOut(page);

  // The password alone now logs in here, and the page says why.
  await submitLogin(page, user.email);
  await page.getByRole("heading", { name: "Hello, Margaret Hamilton" }).waitFor();
  await page.getByText("This browser is remembered, so the second step was skipped.").waitFor();

  // The Security page lists it: this browser, in words, with its dates and address.
  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  const card = page.getByRole("region", { name: "Remembered browsers" });
  const list = card.getByRole("list", { name: "Remembered browsers" });
  await list.getByRole("listitem").first().waitFor();
  assert.equal(await list.getByRole("listitem").count(), 1);
  const item = list.getByRole("listitem").first();
  await item.getByText("This browser", { exact: true }).waitFor();
  // Named as the sessions list names it (src/notify/user-agent.ts): headless Chromium says "HeadlessChrome", which is not on the list of browsers.
  await item.getByText(HEADLESS, { exact: true }).waitFor();
  await item.getByText(/Remembered .* · Last used .* · Until /).waitFor();

  // Forget: Cancel keeps it; Forget (confirmed) removes it.
  await item.getByRole("button", { name: new RegExp(`^Forget ${HEADLESS_IN_SENTENCE}`) }).click();
  let dialog = page.getByRole("dialog", { name: `Forget ${HEADLESS_IN_SENTENCE}?` });
  await dialog.getByText(/This is the browser you are using/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await list.getByRole("listitem").count(), 1);
  await item.getByRole("button", { name: new RegExp(`^Forget ${HEADLESS_IN_SENTENCE}`) }).click();
  dialog = page.getByRole("dialog", { name: `Forget ${HEADLESS_IN_SENTENCE}?` });
  await dialog.getByRole("button", { name: "Forget" }).click();
  await card.getByRole("status").getByText(`${HEADLESS} is forgotten.`).waitFor();
  await card.getByText("No browser is remembered.", { exact: false }).waitFor();
  assert.deepEqual((await call(user.context, "GET", "/api/security/trusted-browsers")).browsers, []);

  // The next login asks for the second step again; remember once more, then Forget all.
  await logOut(page);
  await submitLogin(page, user.email);
  await secondStepWithBackupCode(page, backupCodes[1], true);
  await page.getByRole("heading", { name: "Hello, Margaret Hamilton" }).waitFor();
  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await list.getByRole("listitem").first().waitFor();
  // Remembered just now, it has not skipped a second step yet.
  await list
    .getByRole("listitem")
    .first()
    .getByText(/Remembered .* · Not used yet · Until /)
    .waitFor();
  await card.getByRole("button", { name: "Forget all" }).click();
  dialog = page.getByRole("dialog", { name: "Forget every remembered browser?" });
  await dialog.getByRole("button", { name: "Forget all" }).click();
  await card.getByRole("status").getByText("Every remembered browser is forgotten.").waitFor();
  await card.getByText("No browser is remembered.", { exact: false }).waitFor();

  await logOut(page);
  await submitLogin(page, user.email);
  await page.getByRole("region", { name: "Two-step verification" }).waitFor();
  assertNoProblems(page);
});

test("without the box ticked nothing is remembered, and the next login asks for the second step again", async () => {
  const user = await account(chrome.browser, { name: "Annie Easley", prefix: "untrusted" });
  const { backupCodes } = await addAuthenticatorApp(user);
  const page = user.page;
  await page.goto("/");
  await logOut(page);
  await submitLogin(page, user.email);
  await secondStepWithBackupCode(page, backupCodes[0], false);
  await page.getByRole("heading", { name: "Hello, Annie Easley" }).waitFor();
  assert.deepEqual((await call(user.context, "GET", "/api/security/trusted-browsers")).browsers, []);
  await logOut(page);
  await submitLogin(page, user.email);
  const step = page.getByRole("region", { name: "Two-step verification" });
  await step.waitFor();
  assert.equal(await step.getByRole("checkbox", { name: "Remember this browser for 30 days" }).isVisible(), true);
  assertNoProblems(page);
});
