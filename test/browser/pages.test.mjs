// Every page and dialog (test/browser/views.mjs), in every language and in
// both colour schemes: zero WCAG 2.2 A/AA violations by axe-core, every word
// from the catalogue of the page's language, and nothing wider than a 360 px
// phone. One test per view and language, so a failure names both.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { axeViolations, foreignWords, LANGUAGES, overflow } from "./checks.mjs";
import { newPage, useBrowser, watchedPage } from "./support.mjs";
import { cast, VIEWS } from "./views.mjs";

const chrome = useBrowser();
const PHONE = { width: 360, height: 740 };

for (const lang of LANGUAGES) {
  describe(`every page and dialog in "${lang}"`, () => {
    let people;
    before(async () => {
      people = await cast(chrome.browser, lang);
    });

    for (const view of VIEWS) {
      test(view.name, async () => {
        const page = view.as === "anonymous" ? await newPage(chrome.browser, { locale: lang }) : await watchedPage(people[view.as].context);
        try {
          await page.emulateMedia({ colorScheme: "light" });
          await view.open(page, people);
          assert.equal(await page.evaluate(() => document.documentElement.lang), lang, "the page speaks the browser's language");

          const problems = {};
          problems["words outside the catalogue"] = await foreignWords(page);
          for (const scheme of ["light", "dark"]) {
            await page.emulateMedia({ colorScheme: scheme });
            problems[`axe, ${scheme}`] = await axeViolations(page);
          }
          await page.setViewportSize(PHONE);
          problems[`wider than ${PHONE.width} px`] = await overflow(page);
          problems["script errors"] = page.problems;

          const found = Object.entries(problems).filter(([, list]) => list.length > 0);
          assert.deepEqual(found, [], found.map(([what, list]) => `${what}:\n  ${list.join("\n  ")}`).join("\n"));
        } finally {
          if (view.as === "anonymous") await page.context().close();
          else await page.close();
        }
      });
    }
  });
}
