// The pages' language: chosen from navigator.languages, switched on every page
// and remembered; dates in the page's language; and the catalogue check that
// pages.test.mjs relies on, shown to catch a string that is not in the catalogue.
import assert from "node:assert/strict";
import { test } from "node:test";
import { account, addAuthenticatorApp } from "./accounts.mjs";
import { foreignWords } from "./checks.mjs";
import { assertNoProblems, newPage, PASSWORD, useBrowser } from "./support.mjs";

const chrome = useBrowser();

async function heading(page) {
  await page.locator("#login:visible, #home:visible, main h1").first().waitFor();
  return (await page.locator("h1:visible").first().textContent()).trim();
}

test("the language follows navigator.languages: French for fr-FR and fr-CA, English for a language we lack", async () => {
  for (const [locale, lang, title] of [
    ["fr-FR", "fr", "Connexion"],
    ["fr-CA", "fr", "Connexion"],
    ["en-GB", "en", "Log in"],
    ["de-DE", "en", "Log in"],
  ]) {
    const page = await newPage(chrome.browser, { locale });
    await page.goto("/");
    assert.equal(await heading(page), title, locale);
    assert.equal(await page.evaluate(() => document.documentElement.lang), lang, locale);
    assert.deepEqual(await foreignWords(page), [], locale);
    await page.context().close();
  }
});

test("the switch is on every page; the choice is remembered across pages and reloads, and keeps the second step", async () => {
  const user = await account(chrome.browser, { name: "Élise Bernard", community: "Atelier", locale: "fr-FR", prefix: "switch" });
  await addAuthenticatorApp(user);
  const page = await newPage(chrome.browser, { locale: "fr-FR" });

  // Every page has the switch, each language named in its own language, the current one marked.
  for (const path of ["/", "/no-such-page"]) {
    await page.goto(path);
    const languages = page.getByRole("list", { name: "Langue" });
    await languages.getByRole("link", { name: "English" }).waitFor();
    assert.equal(await languages.getByRole("link", { name: "Français" }).getAttribute("aria-current"), "true");
    assert.equal(await languages.getByRole("link", { name: "English" }).getAttribute("lang"), "en");
  }

  // Half logged in, then switching: the second step is still there, now in English.
  await page.goto("/");
  const login = page.getByRole("region", { name: "Connexion" });
  await login.getByLabel("Adresse e-mail").fill(user.email);
  await login.getByLabel("Mot de passe").fill(PASSWORD);
  await login.getByRole("button", { name: "Se connecter" }).click();
  await page.getByLabel("Code à 6 chiffres de votre application d’authentification").waitFor();
  await page.getByRole("list", { name: "Langue" }).getByRole("link", { name: "English" }).click();
  await page.getByLabel("6-digit code from your authenticator app").waitFor();
  assert.equal(new URL(page.url()).search, "", "the address is clean again");
  assert.equal(await page.evaluate(() => localStorage.getItem("lang")), "en");

  // Remembered over the browser's own French, on other pages and after a reload.
  await page.goto("/no-such-page");
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Page not found" }).waitFor();

  // And back: the admin page, with its own query string, keeps it.
  const admin = await newPage(chrome.browser, { locale: "en-US" });
  await admin.context().addCookies(await user.context.cookies());
  await admin.goto(`/admin?community=${user.communityId}`);
  await admin.getByRole("heading", { name: "Atelier: community admin" }).waitFor();
  await admin.getByRole("link", { name: "Français" }).click();
  await admin.getByRole("heading", { name: "Atelier : administration de la communauté" }).waitFor();
  assert.equal(new URL(admin.url()).search, `?community=${user.communityId}`);
  assertNoProblems(page);
  assertNoProblems(admin);
});

test("dates and times are written in the page's language", async () => {
  const user = await account(chrome.browser, { name: "Hugo Roux", locale: "fr-FR", prefix: "dates" });
  const fr = user.page;
  await fr.goto("/security");
  const frTime = (await fr.locator("#events time").first().textContent()).trim();
  // 28 nov. 2026, 17:28
  assert.match(frTime, /^\d{1,2} [a-zéû]+\.? \d{4}\D+\d{1,2}:\d{2}$/u);

  const en = await newPage(chrome.browser, { locale: "en-US" });
  await en.context().addCookies(await user.context.cookies());
  await en.goto("/security");
  const enTime = (await en.locator("#events time").first().textContent()).trim();
  // Nov 28, 2026, 5:28 PM
  assert.match(enTime, /^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\s[AP]M$/u);
  const iso = await en.locator("#events time").first().getAttribute("datetime");
  assert.ok(!Number.isNaN(Date.parse(iso)), "with the machine-readable time beside it");
});

test("the catalogue check catches a hard-coded string, an English string on a French page, an unknown key and a hard-coded name", async () => {
  const page = await newPage(chrome.browser, { locale: "fr-FR" });
  await page.goto("/");
  await page.locator("#login:visible").waitFor();
  assert.deepEqual(await foreignWords(page), [], "the French login page is clean to begin with");

  await page.evaluate(() => {
    const add = (html) => document.querySelector("#login").insertAdjacentHTML("beforeend", html);
    add('<p id="t1">Please log in</p>'); // hard-coded, in no catalogue
    add('<p id="t2">Log in</p>'); // in the English catalogue, not the French one
    add('<p id="t3">login.titel</p>'); // what a missing key looks like
    add('<button id="t4" aria-label="Close">×</button>'); // a hard-coded accessible name
    add('<p id="t5">Mot de passe</p>'); // French from the catalogue: fine
    add('<p id="t6" lang="en">Log in</p>'); // English, marked as English: fine
    add('<p id="t7" translate="no">Grace Hopper</p>'); // data, marked as such: fine
  });
  const found = (await foreignWords(page)).map((line) => line.replace(/ at .*/, ""));
  assert.deepEqual(found.sort(), ["fr: “Close”", "fr: “Log in”", "fr: “Please log in”", "fr: “login.titel”"]);
});

test("API calls ask for the page's language first, then the browser's: the emails they cause follow the switch", async () => {
  const page = await newPage(chrome.browser, { locale: "en-US" });
  const asked = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.startsWith("/api/")) asked.push(request.headers()["accept-language"]);
  });
  await page.goto("/?lang=fr");
  assert.equal(await heading(page), "Connexion");
  await page.waitForLoadState("networkidle");
  assert.ok(asked.length > 0, "the page called the API");
  for (const header of asked) assert.match(header, /^fr, en-US;q=0\.9\b/);
  await page.context().close();
});
