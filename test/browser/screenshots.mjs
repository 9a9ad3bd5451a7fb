// `npm run screenshots`: the login, Security and admin pages in French, light
// and dark, written to docs/screenshots/ for the README. Run against a fresh
// service (scripts/with-server.mjs), so the people in them have plain names.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { account, addAuthenticatorApp, addKey, call, join as joinCommunity, resetTwoFactor } from "./accounts.mjs";
import { launch, newPage, watchedPage } from "./support.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "screenshots");
mkdirSync(out, { recursive: true });
const browser = await launch();
const lang = "fr-FR";
const size = { width: 1000, height: 900 };

const owner = await account(browser, { name: "Camille Martin", community: "Relais Nord", email: "camille.martin@example.com", locale: lang, ...size });
await addAuthenticatorApp(owner, "Pixel 9");
await addKey(owner, "YubiKey 5C");
for (const [name, email, reset] of [
  ["Bruno Petit", "bruno.petit@example.com", false],
  ["Chloé Durand", "chloe.durand@example.com", true],
]) {
  const member = await account(browser, { name, email, locale: lang });
  await joinCommunity(owner, member);
  await addAuthenticatorApp(member);
  if (reset) await resetTwoFactor(owner, member);
}
await call(owner.context, "POST", `/api/communities/${owner.communityId}/invitations`, { email: "dan.moreau@example.com", role: "member" });
const visitor = (await newPage(browser, { locale: lang, ...size })).context();

const shots = [
  ["login", visitor, "/", "#login:visible"],
  ["security", owner.context, "/security", "#events li"],
  ["admin", owner.context, "/admin", "#members tbody tr"],
];
for (const [name, context, path, ready] of shots) {
  for (const scheme of ["light", "dark"]) {
    const page = await watchedPage(context);
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(path);
    await page.locator(ready).first().waitFor();
    // No caret or focus ring caught mid-blink: the picture shows the page at rest.
    await page.evaluate(() => document.activeElement?.blur());
    const file = join(out, `${name}-fr-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshots: wrote ${file}`);
    await page.close();
  }
}
await browser.close();
