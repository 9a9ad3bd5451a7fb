// Turning on 2FA with an authenticator app on the Security page, saving the
// backup codes, and logging in with a TOTP code and with a backup code. Codes
// come from `otpauth` (cross-checked with `oathtool`), never from our code.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  assertNoProblems,
  confirmPasswordIfAsked,
  decodeQR,
  freshTOTP,
  logOut,
  newPage,
  signUp,
  submitLogin,
  uniqueEmail,
  useBrowser,
  wrongTOTP,
} from "./support.mjs";

/** "123 456": how authenticator apps show a code, and how people often type it. */
const spaced = (code) => `${code.slice(0, 3)} ${code.slice(3)}`;

const chrome = useBrowser();
const CODE = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;

/** The codes on the backup-codes card, read once all ten are shown (the card fills after the server answers). */
async function tenCodes(card) {
  const items = card.getByRole("list", { name: "Backup codes" }).getByRole("listitem");
  await items.nth(9).waitFor();
  const codes = (await items.allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  return codes;
}

test("enable 2FA with an authenticator app, save the backup codes, log in with a code and with a backup code", async () => {
  const page = await newPage(chrome.browser);
  const email = uniqueEmail("totp");
  await signUp(page, { name: "Katherine Johnson", email });

  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await page.getByText("Off.", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Add authenticator app" }).click();
  await page.getByLabel("Name for this app").fill("Phone");
  await page.getByRole("button", { name: "Continue" }).click();
  // The password is asked before the change (the seed's step 4).
  await page.getByRole("dialog", { name: "Confirm your password" }).waitFor();
  await confirmPasswordIfAsked(page);

  // The key for manual entry, read from the page as a person would type it.
  await page.getByLabel("Enter the 6-digit code the app shows").waitFor();
  const secret = (await page.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  assert.match(secret, /^[A-Z2-7]{32,}$/, "a base32 key of at least 160 bits");

  // The QR code encodes the same key, read from a screenshot by jsqr (an independent reader).
  const uri = await decodeQR(chrome.browser, await page.getByRole("img", { name: /QR code/ }).screenshot());
  assert.ok(uri, "the QR code on the page can be read");
  const parsed = new URL(uri);
  assert.equal(parsed.protocol, "otpauth:");
  assert.equal(parsed.searchParams.get("secret"), secret);
  assert.ok(decodeURIComponent(parsed.pathname).includes(email), "the account is in the label");
  assert.ok(parsed.searchParams.get("issuer"), "the issuer is named");

  // Typed as the app shows it, in two groups of three.
  await page.getByLabel("Enter the 6-digit code the app shows").fill(spaced(await freshTOTP(secret)));
  await page.getByRole("button", { name: "Verify and add" }).click();

  // Ten backup codes, shown once, with Copy and Download.
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await card.waitFor();
  const codes = (await card.getByRole("list", { name: "Backup codes" }).getByRole("listitem").allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  for (const code of codes) assert.match(code, CODE);
  assert.equal(new Set(codes).size, 10);

  await card.getByRole("button", { name: "Copy" }).click();
  await card.getByRole("button", { name: "Copied" }).waitFor();
  await card.getByText("Copied to the clipboard.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), codes.join("\n"));

  const [download] = await Promise.all([page.waitForEvent("download"), card.getByRole("button", { name: "Download" }).click()]);
  assert.match(download.suggestedFilename(), /\.txt$/);
  const file = readFileSync(await download.path(), "utf8");
  const lines = file.split(/\r?\n/).map((l) => l.trim());
  const inFile = lines.filter((l) => CODE.test(l));
  assert.deepEqual(inFile, codes, "the file holds the ten codes, one per line");
  assert.match(lines[0], /backup codes/i, "with a short header");

  const done = card.getByRole("button", { name: "Done" });
  assert.equal(await done.isDisabled(), true, "Done waits for the confirmation");
  await card.getByLabel("I have saved these codes").check();
  await done.click();
  await card.waitFor({ state: "hidden" });
  await page.getByText("On.", { exact: true }).waitFor();
  const methods = page.getByRole("list", { name: "Methods" });
  await methods.getByText("Phone").waitFor();
  await methods.getByText("Authenticator app").waitFor();
  assert.equal(await page.getByText(codes[0]).count(), 0, "the codes are shown only once");

  // Log in with a code from the app: the prompt asks for it first.
  await logOut(page);
  await submitLogin(page, email);
  const totpInput = page.getByLabel("6-digit code from your authenticator app");
  await totpInput.waitFor();
  await totpInput.fill(wrongTOTP(secret));
  await page.getByRole("button", { name: "Verify" }).click();
  await page
    .getByRole("alert")
    .getByText(/not accepted/)
    .waitFor();
  await totpInput.fill(spaced(await freshTOTP(secret)));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Hello, Katherine Johnson" }).waitFor();

  // Log in with a backup code, switching method on the prompt.
  await logOut(page);
  await submitLogin(page, email);
  await totpInput.waitFor();
  await page.getByRole("button", { name: "Use a backup code" }).click();
  await page.getByLabel("Backup code").fill(` ${codes[3].toUpperCase()} `);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Hello, Katherine Johnson" }).waitFor();

  // A used backup code does not work again.
  await logOut(page);
  await submitLogin(page, email);
  await page.getByRole("button", { name: "Use a backup code" }).click();
  await page.getByLabel("Backup code").fill(codes[3]);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").getByText("That backup code was not accepted. It may be mistyped or already used.").waitFor();
  await page.getByLabel("Backup code").fill(codes[4]);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Hello, Katherine Johnson" }).waitFor();

  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await page.getByText("8 of 10 backup codes left.").waitFor();
  // The log, in words: 2FA turned on, the app added, the backup codes used.
  const events = page.getByRole("region", { name: "Recent security events" });
  await events.getByText("Two-factor authentication turned on").waitFor();
  await events.getByText("Added authenticator app “Phone”").waitFor();
  // Each backup-code login is said once ("Logged in with backup code"), the code's use beside it in other words.
  await events.getByText("Backup code used (8 left)").waitFor();
  assert.equal(await events.getByText(/^Logged in with a backup code/).count(), 0, "no second “logged in” line for one login");
  await page
    .getByRole("list", { name: "Methods" })
    .getByText(/Last used/)
    .waitFor();
  assertNoProblems(page);
});

test("new backup codes replace the old ones after a warning, and 2FA can be turned off with the password", async () => {
  const page = await newPage(chrome.browser, { width: 375, height: 800 });
  const email = uniqueEmail("regen");
  await signUp(page, { name: "Dorothy Vaughan", email });
  // The page believes the password was confirmed (as after one in an earlier session);
  // the server says 403 reauth_required, and the page asks again and carries on.
  await page.goto("/security");
  await page.evaluate(() => sessionStorage.setItem("sudoUntil", String(Date.now() + 5 * 60_000)));
  await page.reload();
  await page.getByText(/Password confirmed: you can make changes until/).waitFor();
  await page.getByRole("button", { name: "Add authenticator app" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  const again = page.getByRole("dialog", { name: "Confirm your password" });
  await again.getByText("Your password confirmation has expired. Enter your password again to continue.").waitFor();
  await again.getByLabel("Password").fill("wrong password for sure");
  await again.getByRole("button", { name: "Confirm" }).click();
  await again.getByRole("alert").getByText("That password is wrong. Try again.").waitFor();
  await confirmPasswordIfAsked(page);
  await page.getByLabel("Enter the 6-digit code the app shows").waitFor();
  const secret = (await page.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  await page.getByLabel("Enter the 6-digit code the app shows").fill(wrongTOTP(secret));
  await page.getByRole("button", { name: "Verify and add" }).click();
  await page
    .getByRole("alert")
    .getByText(/That code did not match/)
    .waitFor();
  await page.getByLabel("Enter the 6-digit code the app shows").fill(await freshTOTP(secret));
  await page.getByRole("button", { name: "Verify and add" }).click();
  const card = page.getByRole("region", { name: "Save your backup codes" });
  const first = await tenCodes(card);
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();

  await page.getByRole("button", { name: "Generate new backup codes" }).click();
  const warning = page.getByRole("dialog", { name: "Generate new backup codes?" });
  await warning.getByText(/stop working immediately/).waitFor();
  await warning.getByRole("button", { name: "Cancel" }).click();
  await warning.waitFor({ state: "hidden" });
  await page.getByText("10 of 10 backup codes left.").waitFor();

  await page.getByRole("button", { name: "Generate new backup codes" }).click();
  await warning.getByRole("button", { name: "Generate new codes" }).click();
  await confirmPasswordIfAsked(page);
  const second = await tenCodes(card);
  assert.equal(
    second.some((c) => first.includes(c)),
    false,
  );
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();

  // Rename: the new name is listed.
  await page.getByRole("button", { name: "Rename Authenticator app" }).click();
  await confirmPasswordIfAsked(page);
  const rename = page.getByRole("dialog", { name: "Rename method" });
  await rename.getByLabel("New name").fill("Pixel 9");
  await rename.getByRole("button", { name: "Save" }).click();
  await rename.waitFor({ state: "hidden" });
  await page.getByRole("list", { name: "Methods" }).getByText("Pixel 9").waitFor();

  // Removing the only method is explained, not silently refused.
  await page.getByRole("button", { name: "Remove Pixel 9" }).click();
  await page
    .getByRole("dialog", { name: /Remove/ })
    .getByRole("button", { name: "Remove" })
    .click();
  await page
    .getByRole("alert")
    .getByText(/only two-factor method/)
    .waitFor();

  // The card's words throughout ("Turn off", as its heading and the home page's "Turn on"), not "Disable".
  await page.getByRole("region", { name: "Turn off two-factor authentication" }).getByRole("button", { name: "Turn off two-factor authentication" }).click();
  const disable = page.getByRole("dialog", { name: "Turn off two-factor authentication?" });
  await disable.getByLabel("Current password").fill("wrong password entirely");
  await disable.getByRole("button", { name: "Turn off" }).click();
  await disable.getByRole("alert").getByText("That password is wrong. Try again.").waitFor();
  await disable.getByLabel("Current password").fill("correct horse battery staple");
  await disable.getByRole("button", { name: "Turn off" }).click();
  await disable.waitFor({ state: "hidden" });
  await page.getByText("Off.", { exact: true }).waitFor();

  await logOut(page);
  await submitLogin(page, email);
  await page.getByRole("heading", { name: "Hello, Dorothy Vaughan" }).waitFor();
  assertNoProblems(page);
});

test("the app's key leaves the page once the app is added, and when its setup is cancelled", async () => {
  const page = await newPage(chrome.browser);
  const email = uniqueEmail("key-gone");
  await signUp(page, { name: "Mary Jackson", email });
  await page.getByRole("navigation").getByRole("link", { name: "Security" }).click();
  await page.getByText("Off.", { exact: true }).waitFor();

  /** Starts adding an app and reads its key as a person would. */
  async function startApp(name) {
    await page.getByRole("button", { name: "Add authenticator app" }).click();
    await page.getByLabel("Name for this app").fill(name);
    await page.getByRole("button", { name: "Continue" }).click();
    await confirmPasswordIfAsked(page);
    await page.getByLabel("Enter the 6-digit code the app shows").waitFor();
    return (await page.getByLabel("Setup key").textContent()).replace(/\s+/g, "");
  }

  /** Whether anything in the page still holds the key: text, attributes (the QR code's image, the otpauth:// link), data attributes. */
  async function pageHolds(secret) {
    const html = await page.content();
    const qr = await page.locator("#totp-qr").getAttribute("src");
    return { inMarkup: html.includes(secret) || html.includes(secret.toLowerCase()), qrImage: Boolean(qr) };
  }

  const first = await startApp("Phone");
  assert.deepEqual(await pageHolds(first), { inMarkup: true, qrImage: true }, "while the setup is open the key is on the page");
  await page.getByLabel("Enter the 6-digit code the app shows").fill(await freshTOTP(first));
  await page.getByRole("button", { name: "Verify and add" }).click();
  const card = page.getByRole("region", { name: "Save your backup codes" });
  await tenCodes(card);
  // The key was shown once, to be scanned: once the app is added nobody at this screen can read it back.
  assert.deepEqual(await pageHolds(first), { inMarkup: false, qrImage: false }, "the added app's key is gone from the page");
  await card.getByLabel("I have saved these codes").check();
  await card.getByRole("button", { name: "Done" }).click();
  await page.getByText("On.", { exact: true }).waitFor();
  assert.deepEqual(await pageHolds(first), { inMarkup: false, qrImage: false });

  const second = await startApp("Tablet");
  await page.locator("#totp-setup").getByRole("button", { name: "Cancel" }).last().click();
  await page.locator("#totp-setup").waitFor({ state: "hidden" });
  assert.deepEqual(await pageHolds(second), { inMarkup: false, qrImage: false }, "a cancelled setup's key is gone from the page");
  assertNoProblems(page);
});
