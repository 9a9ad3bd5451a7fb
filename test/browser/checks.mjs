// What every page and dialog is held to, measured in the browser:
// - axe-core finds no WCAG 2.2 A or AA violation;
// - every word on it comes from the catalogue of its language (text nodes,
//   accessible names, the title), so nothing is left untranslated;
// - nothing sticks out to the right at the current width (phones: 360 px);
// - the element with keyboard focus shows a focus indicator.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AxeBuilder } from "@axe-core/playwright";

export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

const I18N = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "public", "assets", "i18n");

/** Every catalogue in public/assets/i18n, by language code. */
export function catalogues() {
  return Object.fromEntries(
    readdirSync(I18N)
      .filter((f) => f.endsWith(".json"))
      .map((f) => [f.slice(0, -5), JSON.parse(readFileSync(join(I18N, f), "utf8"))]),
  );
}

/** The languages the pages offer, English first. */
export const LANGUAGES = Object.keys(catalogues()).sort((a, b) => (a === "en" ? -1 : b === "en" ? 1 : a.localeCompare(b)));

const normalize = (s) => s.replace(/\s+/g, " ").trim();
const hasLetter = (s) => /\p{L}/u.test(s);
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A test of whether a piece of text could have come from `catalogue`: it is a
 * value, or a value with its `{placeholders}` filled, or (for values rendered
 * with elements in their placeholders) one of the fixed parts between them.
 */
export function fromCatalogue(catalogue) {
  const exact = new Set();
  const patterns = [];
  for (const entry of Object.values(catalogue)) {
    for (const value of typeof entry === "string" ? [entry] : Object.values(entry)) {
      const parts = normalize(value).split(/\{\w+\}/);
      if (parts.length === 1) {
        exact.add(parts[0]);
        continue;
      }
      for (const part of parts) if (hasLetter(part)) exact.add(part.trim());
      if (hasLetter(parts.join(""))) patterns.push(new RegExp(`^${parts.map(escapeRegExp).join(".+?")}$`, "su"));
    }
  }
  return (text) => exact.has(text) || patterns.some((p) => p.test(text));
}

const matchers = Object.fromEntries(Object.entries(catalogues()).map(([lang, c]) => [lang, fromCatalogue(c)]));

/**
 * The words on the page, as a person or a screen reader meets them: every text
 * node of the document (shown or hidden), every attribute that names or
 * describes something, and the title; each with the language it is in (the
 * nearest `lang`). Text inside translate="no" is data (a name, an email, a
 * code) and is left out; attributes are always kept.
 */
function collectWords() {
  const ATTRS = ["aria-label", "aria-description", "alt", "title", "placeholder", "data-label"];
  const page = document.documentElement.lang;
  const langOf = (el) => el?.closest("[lang]")?.getAttribute("lang") ?? page;
  const where = (el) => {
    const parts = [];
    for (let e = el; e && parts.length < 3; e = e.parentElement) parts.unshift(e.id ? `${e.localName}#${e.id}` : e.localName);
    return parts.join(" > ");
  };
  const words = [];
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script, style, [translate="no"]')) continue;
    words.push({ text: node.nodeValue, lang: langOf(el), where: where(el) });
  }
  for (const el of document.querySelectorAll(ATTRS.map((a) => `[${a}]`).join(","))) {
    for (const attr of ATTRS) {
      if (el.hasAttribute(attr)) words.push({ text: el.getAttribute(attr), lang: langOf(el), where: `${where(el)}[${attr}]` });
    }
  }
  return words;
}

/** Words on the page that no catalogue of their language produces: hard-coded strings, missing keys, the wrong language. */
export async function foreignWords(page) {
  const words = await page.evaluate(collectWords);
  return words
    .map((w) => ({ ...w, text: normalize(w.text) }))
    .filter((w) => hasLetter(w.text))
    .filter((w) => !matchers[w.lang]?.(w.text))
    .map((w) => `${w.lang}: “${w.text}” at ${w.where}`);
}

/** axe-core's WCAG 2.2 A and AA violations, one readable line per failing element. */
export async function axeViolations(page) {
  // Legacy mode runs axe in the page itself instead of opening a blank page to
  // merge frame results: the pages have no frames, and it is much faster.
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).setLegacyMode().analyze();
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")}: ${n.failureSummary?.replace(/\s+/g, " ")}`));
}

/** What makes the page wider than the window: the document's own scroll width, and any shown element past the right edge. */
export async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    if (document.documentElement.scrollWidth > width) found.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${width} px`);
    for (const el of document.querySelectorAll("body *")) {
      if (!el.checkVisibility() || el.closest(".offscreen")) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 1) found.push(`${el.localName}${el.id ? `#${el.id}` : ""}.${el.className} ends at ${Math.round(box.right)} px`);
    }
    return found;
  });
}

/** The focused element and whether it shows a focus indicator (an outline or a ring). */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { name: "", visible: false, tag: "body" };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow !== "none";
    const name = el.getAttribute("aria-label") ?? (el.labels?.[0]?.textContent || el.textContent || el.getAttribute("value") || "");
    return { name: name.replace(/\s+/g, " ").trim(), visible: outline || ring, tag: el.localName, type: el.getAttribute("type") ?? "" };
  });
}
