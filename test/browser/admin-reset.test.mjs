// The seed's "How to reset a 2FA": an admin invites a member, the member
// accepts and turns on an authenticator app, the admin resets it on /admin and
// copies the recovery code, and the member logs in with it and sets up a new app.
import assert from "node:assert/strict";
import { test } from "node:test";
import { mailedToken } from "./mail.mjs";
import { assertNoProblems, confirmPasswordIfAsked, freshTOTP, newPage, signUp, submitLogin, uniqueEmail, useBrowser } from "./support.mjs";

const chrome = useBrowser();

async function addAuthenticatorApp(page, { expectPassword }) {
  await page.getByRole("button", { name: "Add authenticator app" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  if (expectPassword) await page.getByRole("dialog", { name: "Confirm your password" }).waitFor();
  await confirmPasswordIfAsked(page);
  await page.getByLabel("Enter the 6-digit code the app shows").waitFor();
  assert.equal(await page.getByRole("dialog").count(), 0, expectPassword ? "the dialog closed" : "no password prompt in an enrollment session");
  const secret = (await page.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  await page.getByLabel("Enter the 6-digit code the app shows").fill(await freshTOTP(secret));
  await page.getByRole("button", { name: "Verify and add" }).click();
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await card.waitFor();
  assert.equal(await card.getByRole("listitem").count(), 10);
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();
  await card.waitFor({ state: "hidden" });
}

test("an admin resets a member's 2FA on /admin; the member logs in with the recovery code and sets up a new app", async () => {
  const admin = await newPage(chrome.browser);
  const member = await newPage(chrome.browser, { width: 375, height: 800 });
  const memberEmail = uniqueEmail("member");

  // The admin invites the member.
  await signUp(admin, { name: "Alice Admin", email: uniqueEmail("admin"), community: "Reset Club" });
  // An admin needs 2FA of their own before resetting anyone's.
  await admin.goto("/security");
  await addAuthenticatorApp(admin, { expectPassword: true });
  await admin.getByRole("navigation").getByRole("link", { name: "Admin" }).click();
  await admin.getByRole("heading", { name: "Reset Club: community admin" }).waitFor();
  await admin.getByLabel("Email", { exact: true }).fill(memberEmail);
  await admin.getByLabel("Role").selectOption("member");
  await admin.getByRole("button", { name: "Send invitation" }).click();
  await admin.getByRole("list", { name: "Pending invitations" }).getByText(memberEmail).waitFor();

  // The member signs up, accepts and turns on an authenticator app.
  await signUp(member, { name: "Bob Member", email: memberEmail });
  // Accepting needs a confirmed email: the member opens the link the signup emailed.
  const { user } = await (await member.request.get("/api/me")).json();
  await member.goto(`/verify-email#token=${await mailedToken("verify-email", user.id)}`);
  await member.getByRole("button", { name: "Confirm my email address" }).click();
  await member.getByText("Your email address is confirmed. Thank you.").waitFor();
  await member.goto("/");
  await member.getByRole("button", { name: "Accept the invitation to Reset Club" }).click();
  await member.getByText("You joined Reset Club as a member.").waitFor();
  await member.goto("/security");
  await addAuthenticatorApp(member, { expectPassword: true });

  // The admin sees the member with 2FA on, opens … → Reset member’s 2FA.
  await admin.reload();
  const row = admin.getByRole("row").filter({ hasText: memberEmail });
  await row.getByText("Authenticator app").waitFor();
  await row.getByText("On", { exact: true }).waitFor();
  assert.equal(await admin.getByRole("row").filter({ hasText: "(you)" }).getByRole("button").count(), 0, "no reset for the admin's own row");
  // By keyboard: Enter opens the … menu with its item focused, Escape closes it, Enter again and Enter on the item.
  const menuButton = row.getByRole("button", { name: "Actions for Bob Member" });
  await menuButton.focus();
  await admin.keyboard.press("Enter");
  const item = admin.getByRole("menuitem", { name: "Reset member’s 2FA" });
  await item.waitFor();
  assert.equal(await item.evaluate((el) => el === document.activeElement), true, "focus moves into the menu");
  await admin.keyboard.press("Escape");
  await item.waitFor({ state: "hidden" });
  assert.equal(await menuButton.evaluate((el) => el === document.activeElement), true, "focus returns to the … button");
  await admin.keyboard.press("Enter");
  await item.waitFor();
  await admin.keyboard.press("Enter");
  const dialog = admin.getByRole("dialog");
  await dialog.getByText(/authenticator apps, security keys and backup codes are removed/).waitFor();
  await dialog.getByText(/logged out everywhere/).waitFor();
  await dialog.getByText(/email/).first().waitFor();
  await dialog.getByText("once, for 24 hours").waitFor();
  await dialog.getByRole("button", { name: "Reset", exact: true }).click();
  await dialog.getByLabel("Your password").fill("not my password at all");
  await dialog.getByRole("button", { name: "Reset 2FA" }).click();
  await dialog
    .getByRole("alert")
    .getByText(/password is wrong/)
    .waitFor();
  await dialog.getByLabel("Your password").fill("correct horse battery staple");
  await dialog.getByRole("button", { name: "Reset 2FA" }).click();
  const codeBox = dialog.getByLabel("Recovery code");
  await codeBox.waitFor();
  const recoveryCode = (await codeBox.textContent()).trim();
  assert.match(recoveryCode, /^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/);
  await dialog.getByText(/Valid once, until/).waitFor();
  await dialog.getByRole("button", { name: "Copy" }).click();
  await dialog.getByRole("button", { name: "Copied" }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), recoveryCode);
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "hidden" });
  await row.getByText(/Outstanding, expires/).waitFor();
  await row.getByText("Off", { exact: true }).waitFor();

  // The member was logged out everywhere; the password now asks for the recovery code.
  await member.reload();
  await member.getByRole("region", { name: "Log in" }).waitFor();
  await submitLogin(member, memberEmail);
  await member.getByLabel("Recovery code").fill(recoveryCode.toUpperCase().replaceAll("-", ""));
  await member.getByRole("button", { name: "Verify" }).click();

  // Taken to set up a new method before anything else; no password prompt.
  await member.waitForURL(/\/security/);
  await member.getByText("Set up a new two-factor method to finish logging in.").waitFor();
  assert.equal(await member.getByRole("navigation").getByRole("link").count(), 0, "nothing else is offered yet");
  await addAuthenticatorApp(member, { expectPassword: false });
  await member.getByText(/You are logged in again/).waitFor();

  // Logged in: the account page works and the admin sees the new app.
  await member.getByRole("navigation").getByRole("link", { name: "Account" }).click();
  await member.getByRole("heading", { name: "Hello, Bob Member" }).waitFor();
  assert.equal((await member.request.get("/api/me")).status(), 200);
  // The member's log names the admin and the time of the reset, not where the admin was (docs/security.md R10c).
  await member.goto("/security");
  const issued = member.locator('#events li[data-type="recovery_code_issued"]');
  await issued.waitFor();
  const said = await issued.textContent();
  assert.match(said, /reset by admin Alice Admin; recovery code issued, valid until /);
  assert.equal(await issued.locator("time").count(), 1, "when it happened");
  assert.doesNotMatch(said, /·|from /, "no address or browser of the admin's");
  await admin.reload();
  await row.getByText("Authenticator app").waitFor();
  assert.equal(await row.getByText(/Outstanding/).count(), 0, "the code was spent");
  assertNoProblems(admin);
  assertNoProblems(member);
});
