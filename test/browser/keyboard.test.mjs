// Keyboard only: logging in with each method (an authenticator app, a security
// key, a backup code), setting up an authenticator app, changing the password, and an admin's reset,
// with Tab, Enter, Space and typing, never the mouse. Every stop of the focus
// must show it, and errors must appear in a live region that was already in the
// page (so screen readers announce them).
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, addKey, call, join } from "./accounts.mjs";
import { focused } from "./checks.mjs";
import { assertNoProblems, freshTOTP, newPage, PASSWORD, useBrowser, wrongTOTP } from "./support.mjs";

const chrome = useBrowser();

/** The focused element shows it, and is the one named `name` (a string or a RegExp). */
async function expectFocus(page, name) {
  const f = await focused(page);
  assert.ok(f.visible, `focus on ${f.tag} “${f.name}” is visible`);
  if (name) assert.ok(typeof name === "string" ? f.name === name : name.test(f.name), `focus is on “${name}”, not on ${f.tag} “${f.name}”`);
}

/** Like expectFocus, for focus that a page moves once something it waits for is done (a list redrawn): up to 5 s. */
async function expectFocusSoon(page, name) {
  for (let deadline = Date.now() + 5_000; Date.now() < deadline; await page.waitForTimeout(50)) {
    if ((await focused(page)).name === name) break;
  }
  await expectFocus(page, name);
}

/** Presses Tab (or Shift+Tab) until `name` has focus, checking at every stop that focus is visible. */
async function tabTo(page, name, { back = false, max = 40 } = {}) {
  const matches = (f) => (typeof name === "string" ? f.name === name : name.test(f.name));
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const f = await focused(page);
    assert.ok(f.visible, `focus on ${f.tag} “${f.name}” is visible`);
    if (matches(f)) return;
  }
  assert.fail(`“${name}” was not reached with ${max} presses of Tab`);
}

/** Runs `act`; `text` must then appear inside a live region (alert, status or aria-live) that was already shown before. */
async function expectAnnounced(page, act, text) {
  await page.evaluate(() => {
    for (const region of document.querySelectorAll("[role=alert], [role=status], [aria-live]")) if (region.checkVisibility()) region.dataset.liveBefore = "";
  });
  await act();
  const message = page.getByText(text);
  await message.waitFor();
  const live = await message.evaluate((el) => el.closest("[role=alert], [role=status], [aria-live]")?.hasAttribute("data-live-before") ?? false);
  assert.ok(live, `“${text}” is announced: it appears in a live region that was in the page before`);
}

async function typePassword(page, email) {
  await page.goto("/");
  await page.getByRole("heading", { name: "Log in" }).waitFor();
  await expectFocus(page, "Email");
  await page.keyboard.type(email);
  await tabTo(page, "Password");
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
}

test("keyboard only: log in with an authenticator app, a wrong code announced first", async () => {
  const user = await account(chrome.browser, { name: "Ada Keys", prefix: "kbd-totp" });
  const { secret } = await addAuthenticatorApp(user);
  const page = await newPage(chrome.browser);
  await typePassword(page, user.email);
  await page.getByLabel("6-digit code from your authenticator app").waitFor();
  await expectFocus(page, "6-digit code from your authenticator app");
  await expectAnnounced(
    page,
    async () => {
      await page.keyboard.type(wrongTOTP(secret));
      await page.keyboard.press("Enter");
    },
    /That code was not accepted/,
  );
  await expectFocus(page, "6-digit code from your authenticator app");
  // The wrong code is selected: typing replaces it.
  await page.keyboard.type(await freshTOTP(secret));
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Hello, Ada Keys" }).waitFor();
  assertNoProblems(page);
});

test("keyboard only: log in with a backup code, chosen from the other ways", async () => {
  const user = await account(chrome.browser, { name: "Bea Keys", prefix: "kbd-backup" });
  const { backupCodes } = await addAuthenticatorApp(user);
  const page = await newPage(chrome.browser);
  await typePassword(page, user.email);
  await page.getByLabel("6-digit code from your authenticator app").waitFor();
  await tabTo(page, "Use a backup code");
  await page.keyboard.press("Enter");
  await expectFocus(page, "Backup code");
  await page.keyboard.type(backupCodes[0]);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Hello, Bea Keys" }).waitFor();
  assertNoProblems(page);
});

test("keyboard only: log in with a security key (CDP virtual authenticator), chosen from the other ways", async () => {
  const user = await account(chrome.browser, { name: "Cy Keys", prefix: "kbd-key" });
  await addAuthenticatorApp(user);
  await addKey(user, "Desk key");
  const page = user.page; // the virtual authenticator holding the key lives in this page
  await call(user.context, "POST", "/api/auth/logout");
  await typePassword(page, user.email);
  await page.getByLabel("6-digit code from your authenticator app").waitFor();
  await tabTo(page, "Use a security key");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Hello, Cy Keys" }).waitFor();
  assertNoProblems(page);
});

test("keyboard only: set up an authenticator app on the Security page and save the backup codes", async () => {
  const user = await account(chrome.browser, { name: "Dee Keys", prefix: "kbd-enroll" });
  const page = user.page;
  await page.goto("/security");
  await page.getByText("Off.", { exact: true }).waitFor();
  await tabTo(page, "Add authenticator app");
  await page.keyboard.press("Enter");
  await expectFocus(page, "Name for this app");
  await page.keyboard.press("Enter");
  // The password dialog opens with the focus in its field.
  await page.getByRole("dialog", { name: "Confirm your password" }).waitFor();
  await expectFocus(page, "Password");
  await expectAnnounced(
    page,
    async () => {
      await page.keyboard.type("not my password at all");
      await page.keyboard.press("Enter");
    },
    "That password is wrong. Try again.",
  );
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");

  // The QR code has the key as text beside it, and a description naming the account.
  await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
  await expectFocus(page, "Enter the 6-digit code the app shows");
  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  const description = await qr.evaluate((img) => document.getElementById(img.getAttribute("aria-describedby"))?.textContent ?? "");
  assert.match(description, new RegExp(`setup key written below, for the account ${user.email.replace(/[.+]/g, "\\$&")}`));
  const secret = (await page.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  assert.match(secret, /^[A-Z2-7]{32,}$/);
  await page.keyboard.type(await freshTOTP(secret));
  await page.keyboard.press("Enter");

  // The codes: focus on their heading, then Copy, Download, Print, the box, Done.
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await card.getByRole("listitem").nth(9).waitFor();
  await tabTo(page, "Copy");
  await tabTo(page, "Download");
  await tabTo(page, "Print");
  await tabTo(page, "I have saved these codes");
  await page.keyboard.press("Space");
  await tabTo(page, "Done");
  await page.keyboard.press("Enter");
  await card.waitFor({ state: "hidden" });
  await page.getByText("On.", { exact: true }).waitFor();
  assertNoProblems(page);
});

test("keyboard only: an admin resets a member's 2FA and copies the recovery code", async () => {
  const admin = await account(chrome.browser, { name: "Eve Admin", community: "Keyboard Club", prefix: "kbd-admin" });
  const member = await account(chrome.browser, { name: "Finn Member", prefix: "kbd-member" });
  await join(admin, member);
  await addAuthenticatorApp(member);
  // An admin needs 2FA of their own before resetting anyone's.
  await addAuthenticatorApp(admin);
  const page = admin.page;
  await page.goto("/admin");
  await page.getByRole("row").filter({ hasText: member.email }).waitFor();

  await tabTo(page, "Actions for Finn Member");
  await page.keyboard.press("Enter");
  await expectFocus(page, "Reset member’s 2FA");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Reset two-factor authentication for Finn Member?" });
  await dialog.waitFor();
  // The safe choice has focus first.
  await expectFocus(page, "Cancel");
  await tabTo(page, "Reset");
  await page.keyboard.press("Enter");
  await expectFocus(page, "Your password");
  await expectAnnounced(
    page,
    async () => {
      await page.keyboard.type("not my password at all");
      await page.keyboard.press("Enter");
    },
    /password is wrong/,
  );
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  const code = page.getByLabel("Recovery code", { exact: true });
  await code.waitFor();
  await tabTo(page, "Copy");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), (await code.textContent()).trim());
  await tabTo(page, "Done");
  await page.keyboard.press("Enter");
  await page.getByRole("dialog").waitFor({ state: "detached" });
  // Focus returns to where the person was, once the members list the reset reloaded is drawn.
  await expectFocusSoon(page, "Actions for Finn Member");
  assertNoProblems(page);
});

test("keyboard only: change the password, a wrong current password first, focus kept in the form", async () => {
  const user = await account(chrome.browser, { name: "Grace Hopper" });
  const page = user.page;
  await page.goto("/security");
  await page.getByRole("heading", { name: "Password", exact: true }).waitFor();
  await tabTo(page, "Current password");
  await page.keyboard.type("not my password at all");
  await tabTo(page, "New password");
  await page.keyboard.type("a new and rather long pass phrase");
  await tabTo(page, "Change password");
  // The button is disabled while the change is checked; focus must not fall to the page's body.
  await expectAnnounced(page, () => page.keyboard.press("Enter"), "The current password is wrong.");
  await expectFocusSoon(page, "Current password");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(PASSWORD);
  await tabTo(page, "Change password");
  await page.keyboard.press("Enter");
  await page.getByText("Your password was changed. Your other sessions were logged out.").waitFor();
  // The card's heading takes focus (headings show no ring by design), so Tab goes on from the form.
  await page.waitForFunction(() => document.activeElement?.id === "password-title");
  assertNoProblems(page);
});
