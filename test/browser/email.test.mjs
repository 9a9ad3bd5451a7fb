// The links sent by email, followed in Chromium: forgot password through the
// link read from the local email, and the verification banner going away.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, call } from "./accounts.mjs";
import { mailedToken, mailedTokens } from "./mail.mjs";
import { assertNoProblems, PASSWORD, submitLogin, useBrowser } from "./support.mjs";

const chrome = useBrowser();
const NEW_PASSWORD = "a fresh password from the link";

test("forgot password: ask on the login page, open the emailed link, choose a new password, log in with it", async () => {
  const user = await account(chrome.browser, { name: "Frida Forgetful", prefix: "forgot" });
  const page = user.page;
  await page.context().clearCookies({ name: "__Host-session" });
  await page.goto("/");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  const ask = page.getByRole("region", { name: "Forgot your password?" });
  await ask.getByLabel("Email address").fill(user.email);
  await ask.getByRole("button", { name: "Email me a link" }).click();
  await page
    .getByRole("status")
    .getByText(/a link is on its way/)
    .waitFor();

  const token = await mailedToken("reset-password", user.id);
  // Opened in the same tab, already on /reset-password: only the fragment changes, and the page reads it.
  await page.goto(`/reset-password#token=${token}`);
  const choose = page.getByRole("region", { name: "Choose a new password" });
  await choose.waitFor();
  // The token leaves the address bar as soon as the page has read it.
  assert.equal(await page.evaluate(() => location.hash), "");
  await choose.getByLabel("New password").fill(NEW_PASSWORD);
  await choose.getByRole("button", { name: "Save the new password" }).click();
  await page.getByRole("heading", { name: "Your password was changed" }).waitFor();

  await page.getByRole("link", { name: "Log in" }).click();
  await submitLogin(page, user.email, PASSWORD);
  await page.getByRole("region", { name: "Log in" }).getByRole("alert").getByText("The email or password is wrong.").waitFor();
  await submitLogin(page, user.email, NEW_PASSWORD);
  await page.getByRole("heading", { name: "Hello, Frida Forgetful" }).waitFor();

  // The link works once.
  await page.goto(`/reset-password#token=${token}`);
  await page.getByLabel("New password", { exact: true }).fill(`${NEW_PASSWORD} again`);
  await page.getByRole("button", { name: "Save the new password" }).click();
  await page
    .getByRole("alert")
    .getByText(/no longer works/)
    .waitFor();
  assertNoProblems(page);
});

test("the verification banner: on every logged-in page until the email is confirmed, then gone", async () => {
  const user = await account(chrome.browser, { name: "Vic Unverified", prefix: "banner", verified: false });
  const page = user.page;
  await page.goto("/");
  const banner = page.getByRole("region", { name: "Confirm your email address" });
  await banner.getByText(user.email).waitFor();
  await page.goto("/security");
  await banner.waitFor();

  // Resend: a new link replaces the first.
  const before = mailedTokens("verify-email", user.id);
  await banner.getByRole("button", { name: "Send a new link" }).click();
  await banner
    .getByRole("status")
    .getByText(/A new link is on its way/)
    .waitFor();
  const token = await mailedToken("verify-email", user.id, before);

  await page.goto(`/verify-email#token=${token}`);
  await page.getByRole("status").getByText("Your email address is confirmed. Thank you.").waitFor();
  await page.getByRole("link", { name: "Continue to your account" }).click();
  await page.getByRole("heading", { name: "Hello, Vic Unverified" }).waitFor();
  assert.equal(await page.locator("#verify-banner").count(), 0);
  await page.goto("/security");
  await page.locator("#events li").first().waitFor();
  assert.equal(await page.locator("#verify-banner").count(), 0);
  assertNoProblems(page);
});

test("an invitation link that is not for this account (here: already accepted) lets the person go on to their account", async () => {
  const owner = await account(chrome.browser, { name: "Ines Inviter", community: "Link Club", prefix: "inviter" });
  const member = await account(chrome.browser, { name: "Jo Joiner", prefix: "joiner" });
  const { invitation } = await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: member.email, role: "member" });
  const token = await mailedToken("invitations", invitation.id);
  const page = member.page;
  await page.goto(`/invitations#token=${token}`);
  await page.getByRole("button", { name: "Accept the invitation" }).click();
  await page
    .getByRole("status")
    .getByText(/You joined the community/)
    .waitFor();

  // The same link, opened again from the email later: nothing waits, and the account is one click away, not a loop back here.
  await page.goto(`/invitations#token=${token}`);
  await page.getByText(/No invitation from this link waits for/).waitFor();
  await page.getByRole("link", { name: "Go to your account" }).click();
  await page.getByRole("heading", { name: "Hello, Jo Joiner" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
  assertNoProblems(page);
});
