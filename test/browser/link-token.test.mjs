// The single-use token an email's link carries after `#` (docs/security.md
// R9a, R12g): once the page has read it, nothing the page shows or links to
// holds it, so a copied or shared link, or one opened in a new tab, gives no
// one the token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { assertNoProblems, newPage, useBrowser } from "./support.mjs";

const chrome = useBrowser();
// Shaped like a real token (id, dot, secret), so every page takes it as one.
const TOKEN = `00000000-0000-4000-8000-000000000000.${"T".repeat(43)}`;

test("a link's token is in no link of the page it opens: the language switch points to the page without it", async () => {
  const page = await newPage(chrome.browser);
  for (const path of ["/reset-password", "/verify-email", "/device", "/invitations"]) {
    await page.goto(`${path}#token=${TOKEN}`);
    await page.getByRole("list", { name: "Language" }).getByRole("link", { name: "Français" }).waitFor();
    // The page has read the token and cleaned its address.
    await page.waitForFunction(() => location.hash === "");
    const hrefs = await page.$$eval("a[href]", (links) => links.map((a) => a.href));
    assert.ok(hrefs.length > 0, path);
    assert.deepEqual(
      hrefs.filter((href) => href.includes(TOKEN) || href.includes("#")),
      [],
      `${path}: a link holds the token ("Copy link address", a middle click or a drag would carry it away)`,
    );
    assert.ok(!page.url().includes(TOKEN), path);
  }
  assertNoProblems(page);
});
