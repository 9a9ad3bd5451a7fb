// The links sent by email, followed in Chromium: forgot password through the
// link read from the local email, and the verification banner going away.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, call } from "./accounts.mjs";
import { mailedToken, mailedTokens } from "./mail.mjs";
import { assertNoProblems, newPage, PASSWORD, submitLogin, useBrowser } from "./support.mjs";

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

for (const [locale, words] of [
  ["en-US", { save: "Save the new password", askAgain: "Ask for a new link", ask: "Forgot your password?", email: "Email address" }],
  ["fr-FR", { save: "Enregistrer le nouveau mot de passe", askAgain: "Demander un nouveau lien", ask: "Mot de passe oublié ?", email: "Adresse e-mail" }],
]) {
  test(`a reset link that no longer works leads to asking for a new one, the email field ready (${locale})`, async () => {
    const page = await newPage(chrome.browser, { locale });
    // A well-formed token that was never issued: refused like a used or expired one.
    await page.goto(`/reset-password#token=00000000-0000-4000-8000-000000000000.${"A".repeat(43)}`);
    await page.locator("#reset-password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: words.save }).click();
    const again = page.getByRole("alert").getByRole("link", { name: words.askAgain });
    await again.click();
    const ask = page.getByRole("region", { name: words.ask });
    await ask.waitFor();
    assert.equal(await ask.getByLabel(words.email).evaluate((input) => input === document.activeElement), true, "the email field has focus");
    assertNoProblems(page);
  });
}

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
  // Opening the link spends nothing (a mail scanner's browser opens links too): the page says what the link does and waits for the click.
  const confirm = page.getByRole("button", { name: "Confirm my email address" });
  await confirm.waitFor();
  assert.equal(await page.evaluate(() => location.hash), "");
  assert.equal((await call(user.context, "GET", "/api/me")).user.emailVerified, false);
  await confirm.click();
  await page.getByRole("status").getByText("Your email address is confirmed. Thank you.").waitFor();
  assert.equal(await confirm.isVisible(), false);
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

test("a device link: opening it spends nothing, the button gives this browser its own login bucket", async () => {
  const user = await account(chrome.browser, { name: "Dee Device", prefix: "device" });
  // Someone empties the email's login bucket with wrong passwords; the owner's right one from a new browser is slowed and emails a device link.
  const stranger = (await newPage(chrome.browser)).context();
  for (let i = 0; i < 10; i++) {
    const res = await stranger.request.post("/api/auth/login", { data: { email: user.email, password: "not the password at all" } });
    assert.equal(res.status(), 401);
  }
  const page = await newPage(chrome.browser);
  const slowed = await page.context().request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  assert.equal(slowed.status(), 429);
  const token = await mailedToken("device", user.id);

  const posted = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/api/auth/device-link") posted.push(r.method());
  });
  await page.goto(`/device#token=${token}`);
  const remember = page.getByRole("button", { name: "Let this browser log in to my account" });
  await remember.waitFor();
  assert.equal(await page.evaluate(() => location.hash), "");
  assert.deepEqual(posted, [], "opening the page posts nothing");
  assert.equal((await page.context().cookies()).filter((c) => c.name === "__Host-device").length, 0);

  await remember.click();
  await page
    .getByRole("status")
    .getByText(/This browser can now log in to your account/)
    .waitFor();
  assert.deepEqual(posted, ["POST"]);
  await page.getByRole("link", { name: "Log in" }).click();
  await submitLogin(page, user.email);
  await page.getByRole("heading", { name: "Hello, Dee Device" }).waitFor();
  assertNoProblems(page);
});
