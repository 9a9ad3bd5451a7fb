// A security key end to end in Chromium: a CDP virtual authenticator (CTAP2,
// platform transport, resident keys, user verification) stands in for the key.
// Register it on the Security page, log out, log in with it on the login page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertNoProblems, confirmPasswordIfAsked, logOut, newPage, signUp, submitLogin, uniqueEmail, useBrowser, virtualAuthenticator } from "./support.mjs";

const chrome = useBrowser();

test("register a security key on the Security page, log out, and log in with it on the login page", async () => {
  const page = await newPage(chrome.browser);
  const authenticator = await virtualAuthenticator(page);
  const email = uniqueEmail("key");
  await signUp(page, { name: "Grace Hopper", email });

  // Register the key: name, password confirmation, the browser ceremony.
  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await page.getByText("Off.", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Add security key" }).click();
  await page.getByLabel("Name for this key").fill("Laptop passkey");
  await page.getByRole("button", { name: "Register key" }).click();
  await page.getByRole("dialog", { name: "Confirm your password" }).waitFor();
  await confirmPasswordIfAsked(page);

  // The first method turns 2FA on: ten backup codes, shown once.
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await card.waitFor();
  assert.equal(await card.getByRole("list", { name: "Backup codes" }).getByRole("listitem").count(), 10);
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();
  await card.waitFor({ state: "hidden" });
  await page.getByText("On.", { exact: true }).waitFor();

  // Listed with its name, its type and no use yet.
  const methods = page.getByRole("list", { name: "Methods" });
  const row = methods.getByRole("listitem").filter({ hasText: "Laptop passkey" });
  await row.waitFor();
  await row.getByText("Security key").waitFor();
  await row.getByText(/Never used/).waitFor();

  // The authenticator made one discoverable credential for RP ID `localhost`, not yet used.
  const [credential, ...more] = await authenticator.credentials();
  assert.equal(more.length, 0);
  assert.equal(credential.rpId, "localhost");
  assert.equal(credential.isResidentCredential, true, "resident key preferred, and this authenticator has one");
  const countAtRegistration = credential.signCount;

  // The same authenticator cannot be registered twice: the options exclude it.
  await page.getByRole("button", { name: "Add security key" }).click();
  await page.getByLabel("Name for this key").fill("Same one again");
  await page.getByRole("button", { name: "Register key" }).click();
  await page.getByRole("alert").getByText("This key is already registered to your account.").waitFor();
  assert.equal((await authenticator.credentials()).length, 1);

  // Log out, log in: the key is the preferred method, so the prompt starts the ceremony itself.
  await logOut(page);
  await submitLogin(page, email);
  await page.getByRole("heading", { name: "Hello, Grace Hopper" }).waitFor();
  const [used] = await authenticator.credentials();
  assert.ok(used.signCount > countAtRegistration, "the login was signed by the virtual authenticator");

  // The Security page shows the key's last use.
  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await methods
    .getByRole("listitem")
    .filter({ hasText: "Laptop passkey" })
    .getByText(/Last used/)
    .waitFor();
  assertNoProblems(page);
});

test("the login prompt offers a backup code instead of the key", async () => {
  const page = await newPage(chrome.browser);
  await virtualAuthenticator(page);
  const email = uniqueEmail("key-alt");
  await signUp(page, { name: "Mary Jackson", email });
  await page.goto("/security");
  await page.getByRole("button", { name: "Add security key" }).click();
  await page.getByLabel("Name for this key").fill("Blue key");
  await page.getByRole("button", { name: "Register key" }).click();
  await confirmPasswordIfAsked(page);
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await card.waitFor();
  const codes = (await card.getByRole("list", { name: "Backup codes" }).getByRole("listitem").allTextContents()).map((c) => c.trim());
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();
  await logOut(page);

  // A page without the authenticator: the ceremony cannot finish, the user switches to a backup code.
  const other = await newPage(chrome.browser);
  const cdp = await other.context().newCDPSession(other);
  await cdp.send("WebAuthn.enable");
  await submitLogin(other, email);
  await other.getByRole("button", { name: "Use a backup code" }).click();
  await other.getByLabel("Backup code").fill(codes[0]);
  await other.getByRole("button", { name: "Verify" }).click();
  await other.getByRole("heading", { name: "Hello, Mary Jackson" }).waitFor();
});
