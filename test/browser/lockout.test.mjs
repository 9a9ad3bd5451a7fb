// A locked second step, as the person sees it: after ten refused codes the
// page says so, and choosing another way (a backup code) does not hide it,
// since the lock covers every way (docs/two-factor.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp } from "./accounts.mjs";
import { assertNoProblems, newPage, PASSWORD, useBrowser, wrongTOTP } from "./support.mjs";

const chrome = useBrowser();

/** A new account with an authenticator app, its password typed on a phone-sized page in `locale`: the page now asks for the code. */
async function atSecondStep(locale, who) {
  const user = await account(chrome.browser, who);
  const { secret } = await addAuthenticatorApp(user);
  const page = await newPage(chrome.browser, { locale, width: 375, height: 800 });
  await page.goto("/");
  await page.locator("#login-email").fill(user.email);
  await page.locator("#login-password").fill(PASSWORD);
  await page.locator("#login button[type=submit]").click();
  return { secret, page };
}

for (const [locale, words] of [
  ["en-US", { code: "6-digit code from your authenticator app", verify: "Verify", backup: "Use a backup code", locked: /locked .*backup codes/ }],
  [
    "fr-FR",
    {
      code: "Code à 6 chiffres de votre application d’authentification",
      verify: "Vérifier",
      backup: "Utiliser un code de secours",
      locked: /bloquée .*codes de secours/,
    },
  ],
]) {
  test(`a locked second step says so, and still says so after choosing a backup code (${locale})`, async () => {
    const { secret, page } = await atSecondStep(locale, { name: "Lou Locked", prefix: "locked" });
    const code = page.getByLabel(words.code);
    const alert = page.locator("#verify-error");
    // Ten refused codes lock the step; the eleventh is answered with the lock.
    for (let i = 0; i < 11; i++) {
      await code.fill(wrongTOTP(secret));
      await page.getByRole("button", { name: words.verify }).click();
      await alert.getByRole("paragraph").waitFor();
      if (i < 10) await alert.evaluate((region) => region.replaceChildren());
    }
    assert.match(await alert.textContent(), words.locked);
    await page.getByRole("button", { name: words.backup }).click();
    assert.match(await alert.textContent(), words.locked, "the lock is still said with the backup code's form");
    assertNoProblems(page);
  });
}

// The warning before the lock (docs/api.md "Lockout"): the 8th and 9th wrong
// codes say how many tries are left and for how long the step would lock; the
// 10th, which sets the lock, says the lock at once instead of a plain refusal.
for (const [locale, words] of [
  [
    "en-US",
    {
      code: "6-digit code from your authenticator app",
      verify: "Verify",
      left: /2 tries left before two-step login locks for 15 minutes\./,
      one: /1 try left before two-step login locks for 15 minutes\./,
      anyLeft: /left before/,
      locked: /locked .*backup codes/,
      tryNow: /enter the one your app shows now/,
    },
  ],
  [
    "fr-FR",
    {
      code: "Code à 6 chiffres de votre application d’authentification",
      verify: "Vérifier",
      left: /Encore 2 essais avant que la connexion en deux étapes soit bloquée pendant 15\u00a0minutes\./,
      one: /Encore 1 essai avant que la connexion en deux étapes soit bloquée pendant 15\u00a0minutes\./,
      anyLeft: /Encore \d+ essai/,
      locked: /bloquée .*codes de secours/,
      tryNow: /saisissez celui que votre application affiche maintenant/,
    },
  ],
]) {
  test(`the last wrong codes before the lock say how many tries are left, and the tenth says the lock (${locale})`, async () => {
    const { secret, page } = await atSecondStep(locale, { name: "Wren Warned", prefix: "warned" });
    const code = page.getByLabel(words.code);
    const alert = page.locator("#verify-error");
    const refused = async () => {
      await alert.evaluate((region) => region.replaceChildren());
      await code.fill(wrongTOTP(secret));
      await page.getByRole("button", { name: words.verify }).click();
      await alert.getByRole("paragraph").waitFor();
      return alert.textContent();
    };
    for (let i = 1; i <= 7; i++) assert.doesNotMatch(await refused(), words.anyLeft, `refusal ${i} says no count`);
    assert.match(await refused(), words.left);
    assert.match(await refused(), words.one);
    const tenth = await refused();
    assert.match(tenth, words.locked);
    assert.doesNotMatch(tenth, words.anyLeft);
    // Locked, the page no longer asks for the code the app shows now: only to wait (or for another way, which is locked too).
    assert.doesNotMatch(tenth, words.tryNow);
    assertNoProblems(page);
  });
}

// Locks double up to 16 hours (docs/two-factor.md); a wait of hours is said in
// hours, rounded up, never as "960 minutes". The page's own words function, in
// the page, with the page's catalogue.
for (const [locale, words] of [
  ["en-US", { s: "45 seconds", m: "90 minutes", justUnder: "120 minutes", two: "2 hours", long: "16 hours", partHour: "3 hours" }],
  // French puts a no-break space between the number and its unit, as the catalogue does.
  [
    "fr-FR",
    { s: "45\u00a0secondes", m: "90\u00a0minutes", justUnder: "120\u00a0minutes", two: "2\u00a0heures", long: "16\u00a0heures", partHour: "3\u00a0heures" },
  ],
]) {
  test(`waits are said in seconds, minutes, then hours (${locale})`, async () => {
    const page = await newPage(chrome.browser, { locale });
    await page.goto("/");
    await page.locator("#login-email").waitFor();
    const said = await page.evaluate(async () => {
      const { waitText } = await import("/assets/api.js");
      return [45, 90 * 60, 2 * 3600 - 1, 2 * 3600, 16 * 3600, 2 * 3600 + 1].map((s) => waitText(s));
    });
    assert.deepEqual(said, [words.s, words.m, words.justUnder, words.two, words.long, words.partHour]);
    assertNoProblems(page);
  });
}
