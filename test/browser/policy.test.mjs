// A community's 2FA policy through the pages: the admin requires it with a
// grace explained in words, a member past it logs in and must enroll first;
// members leave and admins remove them, each after a confirmation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp as addAppByApi, call, join } from "./accounts.mjs";
import { assertNoProblems, confirmPasswordIfAsked, freshTOTP, newPage, PASSWORD, submitLogin, useBrowser } from "./support.mjs";

const chrome = useBrowser();

test("an admin requires 2FA on /admin; a member without it sees the date, then must set it up at login and gets backup codes", async () => {
  const admin = await account(chrome.browser, { name: "Pia Admin", community: "Policy Club", prefix: "pol-admin" });
  await addAppByApi(admin);
  const member = await account(chrome.browser, { name: "Quinn Member", prefix: "pol-member" });
  await join(admin, member);

  // The form explains the grace in words as the admin types.
  const page = admin.page;
  await page.goto("/admin");
  const card = page.getByRole("region", { name: "Two-factor policy" });
  await card.getByText("Two-factor authentication is not required in this community.").waitFor();
  await card.getByLabel("Require two-factor authentication of every member").check();
  await card.getByLabel("Days to set it up").fill("7");
  await card.getByText(/for 7 days, counted from when the requirement starts/).waitFor();
  await card.getByLabel("Days to set it up").fill("0");
  await card.getByText(/must set it up at their next login/).waitFor();
  await card.getByLabel("Days to set it up").fill("3");
  await card.getByRole("button", { name: "Save the policy" }).click();
  // A fresh tab has not re-entered the password: asked for it, then saved.
  const saved = page.getByText("The policy was saved.", { exact: false });
  await confirmPasswordIfAsked(page, saved);
  await saved.waitFor();
  await card.getByText(/^Required since /).waitFor();
  const row = page.getByRole("row").filter({ hasText: member.email });
  await row.getByText("Grace period").waitFor();
  await row.getByText(/^until /).waitFor();

  // The member's pages say by when, with a way to set it up.
  const memberPage = member.page;
  await memberPage.goto("/");
  await memberPage.getByText("A community you belong to requires two-factor authentication.").waitFor();
  await memberPage.getByText(/Set it up before /).waitFor();
  assert.equal(await memberPage.getByRole("link", { name: "Set up two-factor authentication" }).count(), 1);

  // The grace is over: the admin makes it 0 days.
  await call(admin.context, "POST", "/api/security/reauth", { password: PASSWORD });
  await call(admin.context, "PUT", `/api/communities/${admin.communityId}/policy`, { requireTwoFactor: true, graceDays: 0, allowTrustedBrowsers: true });
  await page.reload();
  await page.getByRole("row").filter({ hasText: member.email }).getByText("Overdue").waitFor();

  // A new login from another browser must enroll first, with no password prompt.
  const fresh = await newPage(chrome.browser);
  await fresh.goto("/");
  await submitLogin(fresh, member.email);
  await fresh.waitForURL(/\/security/);
  await fresh.getByText("Add an authenticator app or a security key below to finish logging in.", { exact: false }).waitFor();
  assert.equal(await fresh.getByRole("navigation").getByRole("link").count(), 0, "nothing else is offered yet");
  await fresh.getByRole("button", { name: "Add authenticator app" }).click();
  await fresh.getByRole("button", { name: "Continue" }).click();
  await fresh.getByLabel("Enter the 6-digit code the app shows").waitFor();
  assert.equal(await fresh.getByRole("dialog").count(), 0, "no password prompt in an enrollment session");
  const secret = (await fresh.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  await fresh.getByLabel("Enter the 6-digit code the app shows").fill(await freshTOTP(secret));
  await fresh.getByRole("button", { name: "Verify and add" }).click();
  const codes = fresh.getByRole("region", { name: "Save your backup codes" });
  await codes.waitFor();
  assert.equal(await codes.getByRole("listitem").count(), 10);
  const me = await call(fresh.context(), "GET", "/api/me");
  assert.equal(me.stage, "authenticated");
  assert.equal(me.twoFactor.requiredBy, undefined);
  await page.reload();
  await page.getByRole("row").filter({ hasText: member.email }).getByText("Meets it").waitFor();
  assertNoProblems(page);
  assertNoProblems(fresh);
  await fresh.context().close();
});

test("a member leaves a community from their account page, after a confirmation", async () => {
  const admin = await account(chrome.browser, { name: "Rita Admin", community: "Leavers Club", prefix: "leave-admin" });
  const member = await account(chrome.browser, { name: "Sam Member", prefix: "leave-member" });
  await join(admin, member);
  const page = member.page;
  await page.goto("/");
  const leave = page.getByRole("button", { name: "Leave Leavers Club" });
  // Cancel changes nothing and gives focus back.
  await leave.click();
  const dialog = page.getByRole("dialog", { name: "Leave Leavers Club?" });
  await dialog.getByText(/can no longer reset your two-factor authentication/).waitFor();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  assert.equal(await leave.evaluate((el) => el === document.activeElement), true);
  await leave.click();
  await dialog.getByRole("button", { name: "Leave the community" }).click();
  await page.getByText("You left Leavers Club.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Leave Leavers Club" }).count(), 0);
  const me = await call(member.context, "GET", "/api/me");
  assert.deepEqual(me.communities, []);

  // The last admin is told why they cannot leave.
  const adminPage = admin.page;
  await adminPage.goto("/");
  await adminPage.getByRole("button", { name: "Leave Leavers Club" }).click();
  await adminPage.getByRole("dialog").getByRole("button", { name: "Leave the community" }).click();
  await adminPage
    .getByRole("alert")
    .getByText(/last admin/)
    .waitFor();
  assertNoProblems(page);
  assertNoProblems(adminPage);
});

test("an admin removes a member from the … menu, by keyboard, after a confirmation", async () => {
  const admin = await account(chrome.browser, { name: "Tess Admin", community: "Removal Club", prefix: "rm-admin" });
  const member = await account(chrome.browser, { name: "Uma Member", prefix: "rm-member" });
  await join(admin, member);
  const page = admin.page;
  await page.goto("/admin");
  const row = page.getByRole("row").filter({ hasText: member.email });
  const menuButton = row.getByRole("button", { name: "Actions for Uma Member" });
  await menuButton.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowDown");
  const item = page.getByRole("menuitem", { name: "Remove from community" });
  assert.equal(await item.evaluate((el) => el === document.activeElement), true, "arrow keys move in the menu");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Remove Uma Member from this community?" });
  await dialog.getByText(/their account, password and two-factor methods stay as they are/).waitFor();
  // Cancel has focus first: Enter destroys nothing.
  assert.equal(await dialog.getByRole("button", { name: "Cancel" }).evaluate((el) => el === document.activeElement), true);
  await dialog.getByRole("button", { name: "Remove", exact: true }).click();
  await page.getByText("Uma Member was removed from the community.").waitFor();
  await row.waitFor({ state: "detached" });
  const { members } = await call(admin.context, "GET", `/api/communities/${admin.communityId}/members`);
  assert.deepEqual(
    members.map((m) => m.email),
    [admin.email],
  );
  assertNoProblems(page);
});

test("the security log says in words what a policy change, leaving and a removal were, in English and French", async () => {
  const admin = await account(chrome.browser, { name: "Lou Admin", community: "Log Club", prefix: "log-admin" });
  await addAppByApi(admin);
  const leaver = await account(chrome.browser, { name: "Lea Leaver", prefix: "log-leaver", locale: "fr-FR" });
  const removed = await account(chrome.browser, { name: "Rob Removed", prefix: "log-removed" });
  await join(admin, leaver);
  await join(admin, removed);
  await call(admin.context, "POST", "/api/security/reauth", { password: PASSWORD });
  await call(admin.context, "PUT", `/api/communities/${admin.communityId}/policy`, { requireTwoFactor: true, graceDays: 5, allowTrustedBrowsers: false });
  await call(leaver.context, "DELETE", `/api/communities/${admin.communityId}/members/${leaver.id}`);
  await call(admin.context, "DELETE", `/api/communities/${admin.communityId}/members/${removed.id}`);

  const logOf = async (user, type) => {
    await user.page.goto("/security");
    const item = user.page.locator(`#events li[data-type="${type}"]`);
    await item.waitFor();
    return (await item.locator("span").first().textContent()).trim();
  };
  assert.equal(await logOf(admin, "policy_changed"), "You changed the two-factor policy of the community “Log Club”");
  assert.equal(await logOf(leaver, "member_left"), "Vous avez quitté la communauté «\u00a0Log Club\u00a0»");
  assert.equal(await logOf(removed, "member_removed"), "Removed from the community “Log Club” by Lou Admin");
  for (const user of [admin, leaver, removed]) {
    assert.doesNotMatch(await user.page.locator("#events").textContent(), /Security event:|Événement de sécurité/);
    assertNoProblems(user.page);
  }
});
