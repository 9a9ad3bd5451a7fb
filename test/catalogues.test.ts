// The pages' string catalogues (public/assets/i18n/<lang>.json): every language
// has every key of the English one with the same placeholders, every key the
// pages name exists, no key is left unused, and every error code the API can
// answer has words. The browser test (test/browser/pages.test.mjs) checks the
// other half: that no page shows a word from outside its catalogue.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../src/audit/events";
import { ERRORS } from "../src/http/errors";

type Entry = string | Record<string, string>;
type Catalogue = Record<string, Entry>;

const catalogues = Object.fromEntries(
  Object.entries(import.meta.glob("../public/assets/i18n/*.json", { eager: true, import: "default" })).map(([path, c]) => [
    path.replace(/^.*\/(.+)\.json$/, "$1"),
    c as Catalogue,
  ]),
);
const sources = {
  ...import.meta.glob("../public/*.html", { eager: true, import: "default", query: "?raw" }),
  ...import.meta.glob("../public/assets/*.js", { eager: true, import: "default", query: "?raw" }),
} as Record<string, string>;

const en = catalogues.en as Catalogue;
const PLURAL_CATEGORIES = ["zero", "one", "two", "few", "many", "other"];

function forms(entry: Entry): string[] {
  return typeof entry === "string" ? [entry] : Object.values(entry);
}

function placeholders(entry: Entry): string[] {
  return [...new Set(forms(entry).flatMap((v) => [...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string)))].sort();
}

/** Every key a page names literally: data-i18n="…", data-i18n-attr="attr:…", and quoted "ns.key" strings in scripts. */
function namedKeys(): Map<string, string> {
  const namespaces = new Set(Object.keys(en).map((k) => k.split(".")[0]));
  const found = new Map<string, string>();
  for (const [file, text] of Object.entries(sources)) {
    if (file.endsWith(".html")) {
      for (const m of text.matchAll(/data-i18n="([^"]+)"/g)) found.set(m[1] as string, file);
      for (const m of text.matchAll(/data-i18n-attr="([^"]+)"/g))
        for (const pair of (m[1] as string).trim().split(/\s+/)) found.set(pair.split(":")[1] as string, file);
    }
    for (const m of text.matchAll(/["'`]([a-z]+(?:\.[A-Za-z_]+)+)["'`]/g)) {
      const key = m[1] as string;
      if (namespaces.has(key.split(".")[0] as string) && !/\.(js|json|html|txt|svg)$/.test(key)) found.set(key, file);
    }
  }
  return found;
}

describe("page catalogues", () => {
  it("English and French are there, each naming itself", () => {
    expect(Object.keys(catalogues).sort()).toEqual(expect.arrayContaining(["en", "fr"]));
    for (const [lang, c] of Object.entries(catalogues)) expect(typeof c["language.name"], lang).toBe("string");
  });

  for (const [lang, catalogue] of Object.entries(catalogues)) {
    it(`${lang}: the same keys as English, with the same placeholders, none empty`, () => {
      expect(Object.keys(catalogue).sort()).toEqual(Object.keys(en).sort());
      for (const [key, entry] of Object.entries(catalogue)) {
        expect(placeholders(entry), `${lang} ${key}`).toEqual(placeholders(en[key] as Entry));
        for (const value of forms(entry)) expect(value.trim(), `${lang} ${key}`).not.toBe("");
        if (typeof entry !== "string") {
          // Plural forms are chosen with Intl.PluralRules; "other" is the fallback every language has.
          expect(Object.keys(entry), `${lang} ${key}`).toContain("other");
          for (const category of Object.keys(entry)) expect(PLURAL_CATEGORIES, `${lang} ${key}`).toContain(category);
        }
      }
    });
  }

  it("fr: a no-break space before each high punctuation mark, so no line starts with one", () => {
    // French typography: a space before : ; ! ? that a line may not break at (U+00A0 before the colon, the
    // narrow U+202F before the others; either is accepted). An ordinary space there lets a line begin with the mark.
    const fr = catalogues.fr as Catalogue;
    const loose = Object.entries(fr).flatMap(([key, entry]) =>
      forms(entry)
        .filter((v) => / [:;!?]/.test(v))
        .map(() => key),
    );
    expect(loose).toEqual([]);
  });

  it("every key a page names exists", () => {
    const missing = [...namedKeys()].filter(([key]) => !(key in en)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });

  it("every key is used by a page (keys built at run time are listed here)", () => {
    const named = namedKeys();
    // Built from data (an API error code, a validated field, a method type's
    // in-sentence form), or read by scripts/build-pages.mjs (the language's own name).
    const dynamic = (key: string) => /^errors\.[a-z_]+$/.test(key) || key.startsWith("errors.field.") || key.endsWith(".inSentence") || key === "language.name";
    expect(Object.keys(en).filter((key) => !named.has(key) && !dynamic(key))).toEqual([]);
  });

  it("every error code the API can answer has words on the pages", () => {
    for (const code of Object.keys(ERRORS)) expect(en, code).toHaveProperty([`errors.${code}`]);
  });

  it("every event type the service records has words in the security log, not the fallback that shows its code", () => {
    const labels = sources["../public/assets/events.js"] ?? "";
    const block = labels.slice(labels.indexOf("const LABELS = {"), labels.indexOf("\n};", labels.indexOf("const LABELS = {")));
    const labelled = new Set([...block.matchAll(/^ {2}([a-z_]+):/gm)].map((m) => m[1]));
    expect(EVENT_TYPES.filter((type) => !labelled.has(type))).toEqual([]);
  });
});
