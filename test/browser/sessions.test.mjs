// The sessions list on the Security page, in two browsers of one account:
// the first sees both, ends the second's session with a confirmation, and the
// second is sent to the login page at its next step. Then "Sign out
// everywhere else" and signing out this browser from the list.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp, call, join, rememberBrowser } from "./accounts.mjs";
import { assertNoProblems, newPage, PASSWORD, signUp, submitLogin, uniqueEmail, useBrowser } from "./support.mjs";

const chrome = useBrowser();

async function secondBrowser(email) {
  const page = await newPage(chrome.browser);
  await submitLogin(page, email);
  await page.getByRole("heading", { name: /^Hello, / }).waitFor();
  return page;
}

test("the sessions list ends another browser's session, after saying what happens", async () => {
  const home = await newPage(chrome.browser);
  const email = uniqueEmail("sessions");
  await signUp(home, { name: "Ada Lovelace", email });
  const away = await secondBrowser(email);

  await home.goto("/security");
  const card = home.getByRole("region", { name: "Where you are signed in" });
  const list = card.getByRole("list", { name: "Sessions" });
  await list.getByRole("listitem").nth(1).waitFor();
  assert.equal(await list.getByRole("listitem").count(), 2);
  // The browser in words (headless Chromium on Linux); this browser marked.
  await list.getByText(/Linux/).first().waitFor();
  const mine = list.locator("li[data-current=true]");
  await mine.getByText("This browser").waitFor();
  const other = list.locator("li:not([data-current])");

  // Cancel first: nothing happens, focus returns to the button.
  const signOut = other.getByRole("button", { name: /^Sign out .*Linux.*, signed in / });
  await signOut.click();
  const dialog = home.getByRole("dialog", { name: "Sign out that browser?" });
  await dialog.getByText(/is signed out at once/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await signOut.evaluate((el) => el === document.activeElement), true);
  assert.equal((await away.request.get("/api/me")).status(), 200);

  // Confirm: the other browser's session ends at once.
  await signOut.click();
  await dialog.getByRole("button", { name: "Sign out" }).click();
  await card
    .getByRole("status")
    .getByText(/Linux is signed out\.$/)
    .waitFor();
  assert.equal(await list.getByRole("listitem").count(), 1);
  assert.equal((await away.request.get("/api/me")).status(), 401);
  // Its next step on a page goes to the login page.
  await away.goto("/security");
  await away.getByRole("region", { name: "Log in" }).waitFor();
  assert.equal((await home.request.get("/api/me")).status(), 200);
  assertNoProblems(home);
});

test("sign out everywhere else keeps this browser; signing out this browser from the list logs out", async () => {
  const home = await newPage(chrome.browser);
  const email = uniqueEmail("sessions-all");
  await signUp(home, { name: "Grace Hopper", email });
  const away = [await secondBrowser(email), await secondBrowser(email)];

  await home.goto("/security");
  const card = home.getByRole("region", { name: "Where you are signed in" });
  await card.getByRole("list", { name: "Sessions" }).getByRole("listitem").nth(2).waitFor();
  await card.getByRole("button", { name: "Sign out everywhere else" }).click();
  const dialog = home.getByRole("dialog", { name: "Sign out everywhere else?" });
  await dialog.getByText(/This browser stays signed in/).waitFor();
  await dialog.getByRole("button", { name: "Sign out everywhere else" }).click();
  await card.getByRole("status").getByText("Every other browser is signed out.").waitFor();
  assert.equal(await card.getByRole("list", { name: "Sessions" }).getByRole("listitem").count(), 1);
  assert.equal(await card.getByRole("button", { name: "Sign out everywhere else" }).isVisible(), false);
  for (const page of away) assert.equal((await page.request.get("/api/me")).status(), 401);

  await card.getByRole("button", { name: "Sign out this browser" }).click();
  await home.getByRole("dialog", { name: "Sign out this browser?" }).getByRole("button", { name: "Sign out" }).click();
  await home.getByRole("region", { name: "Log in" }).waitFor();
  assert.equal((await home.request.get("/api/me")).status(), 401);
  // The account itself is fine: the password logs in again.
  const again = await call(home.context(), "POST", "/api/auth/login", { email, password: PASSWORD });
  assert.equal(again.status, "authenticated");
  assertNoProblems(home);
});

test("a password change refreshes the sessions card: the list as the server has it, the earlier result gone", async () => {
  const home = await newPage(chrome.browser);
  const email = uniqueEmail("sessions-password");
  await signUp(home, { name: "Ada Lovelace", email });
  await secondBrowser(email);

  await home.goto("/security");
  const card = home.getByRole("region", { name: "Where you are signed in" });
  const list = card.getByRole("list", { name: "Sessions" });
  await list.getByRole("listitem").nth(1).waitFor();
  await list.locator("li:not([data-current])").getByRole("button").click();
  await home.getByRole("dialog", { name: "Sign out that browser?" }).getByRole("button", { name: "Sign out" }).click();
  const said = card.getByRole("status");
  await said.getByText(/Linux is signed out\.$/).waitFor();
  // Signed in again elsewhere since the list was drawn: the password change ends that session too.
  await secondBrowser(email);

  const password = home.getByRole("region", { name: "Password" });
  await password.getByLabel("Current password").fill(PASSWORD);
  await password.getByLabel("New password").fill(`${PASSWORD} again`);
  await password.getByRole("button", { name: "Change password" }).click();
  await password
    .getByRole("status")
    .getByText(/Your other sessions were logged out\.$/)
    .waitFor();
  await home.waitForFunction(() => document.activeElement?.id === "password-title");
  assert.equal(await said.textContent(), "", "what the card said before the password change is gone");
  const { sessions } = await call(home.context(), "GET", "/api/security/sessions");
  assert.equal(sessions.length, 1);
  assert.equal(await list.getByRole("listitem").count(), sessions.length, "the list is the server's");
  await list.locator("li[data-current=true]").waitFor();
  assertNoProblems(home);
});

test("the security log and the sessions list name one browser the same way (Opera, whose header also says Chrome)", async () => {
  const opera = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/116.0.0.0";
  const page = await newPage(chrome.browser, { userAgent: opera });
  await signUp(page, { name: "Olga Opera", email: uniqueEmail("opera") });
  await page.goto("/security");
  const session = page.getByRole("list", { name: "Sessions" }).locator("li[data-current=true]");
  await session.getByText("Opera on Windows").waitFor();
  const signedUp = page.locator('#events li[data-type="signed_up"]');
  await signedUp.waitFor();
  assert.match(await signedUp.textContent(), /Opera on Windows/);
  assert.doesNotMatch(await page.locator("#events").textContent(), /Chrome/);
  assertNoProblems(page);
});

test("the security log names the admin who removed the user and when, not where the admin was", async () => {
  const admin = await account(chrome.browser, { name: "Ada Admin", community: "Quiet Club", prefix: "remover" });
  const member = await account(chrome.browser, { name: "Mo Member", prefix: "removed" });
  await join(admin, member);
  await call(admin.context, "DELETE", `/api/communities/${admin.communityId}/members/${member.id}`);
  await member.page.goto("/security");
  const removed = member.page.locator('#events li[data-type="member_removed"]');
  await removed.waitFor();
  const said = await removed.textContent();
  assert.match(said, /Removed from the community .Quiet Club. by Ada Admin/);
  assert.equal(await removed.locator("time").count(), 1, "when it happened");
  // The docs/security.md R10f rule: the admin's address and browser are theirs.
  assert.doesNotMatch(said, /·/, "no address or browser of the admin's");
  assert.equal(await removed.locator(".when").textContent(), await removed.locator("time").textContent(), "only the time");
  assertNoProblems(member.page);
});

test("the security log names the admin and the community whose policy forgot the remembered browsers", async () => {
  const admin = await account(chrome.browser, { name: "Ada Admin", community: "Careful Club", prefix: "forgetter" });
  const member = await account(chrome.browser, { name: "Mo Member", prefix: "forgotten" });
  await join(admin, member);
  member.totp = await addAuthenticatorApp(member);
  await rememberBrowser(member);
  await call(admin.context, "POST", "/api/security/reauth", { password: PASSWORD });
  await call(admin.context, "PUT", `/api/communities/${admin.communityId}/policy`, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false });
  await member.page.goto("/security");
  const forgotten = member.page.locator('#events li[data-type="trusted_browser_removed"]');
  await forgotten.waitFor();
  const said = await forgotten.textContent();
  assert.match(said, /1 remembered browser forgotten: Ada Admin turned remembered browsers off in the community .Careful Club./);
  assert.equal(await forgotten.locator(".when").textContent(), await forgotten.locator("time").textContent(), "only the time, not where the admin was");
  assertNoProblems(member.page);
});
