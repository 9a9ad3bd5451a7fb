// The pages' words: one catalogue per language (public/assets/i18n/<lang>.json),
// chosen from a `?lang=` link of the language switch, then the remembered choice,
// then navigator.languages; English when nothing matches. Every visible string
// goes through here; dates and numbers through Intl in the same language.
// How to add a string or a language: docs/pages.md.
import { heldLinkToken, passLinkOutcome } from "./link-token.js";
import { LANGUAGES } from "./vendor/languages.js";

const STORAGE_KEY = "lang";

/** The first of `wanted` (BCP 47 tags, best first) that `available` has, by full tag then by primary subtag. */
export function negotiate(wanted, available) {
  for (const tag of wanted) {
    const lower = String(tag).toLowerCase();
    if (available.includes(lower)) return lower;
    const primary = lower.split("-")[0];
    if (available.includes(primary)) return primary;
  }
  return null;
}

function remembered() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (private mode, policy): the browser's languages still work
  }
}

function choose() {
  const available = Object.keys(LANGUAGES);
  const url = new URL(location.href);
  const asked = url.searchParams.get("lang");
  if (asked !== null) {
    // A click on the language switch: remember it, and keep the address clean.
    if (available.includes(asked)) {
      try {
        localStorage.setItem(STORAGE_KEY, asked);
      } catch {}
    }
    url.searchParams.delete("lang");
    history.replaceState(history.state, "", url);
  }
  const saved = remembered();
  if (saved && available.includes(saved)) return saved;
  return negotiate(navigator.languages?.length ? navigator.languages : [navigator.language ?? "en"], available) ?? "en";
}

async function load(code) {
  try {
    const res = await fetch(`/assets/i18n/${code}.json`);
    if (res.ok) return await res.json();
  } catch {}
  return null;
}

export const lang = choose();
// A catalogue that cannot be loaded leaves the keys showing; the page still works.
const catalogue = (await load(lang)) ?? (lang === "en" ? {} : ((await load("en")) ?? {}));

const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(lang);
const dateTime = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(lang, { timeStyle: "short" });

function template(key, params) {
  let entry = catalogue[key];
  // Plural entries are objects keyed by Intl.PluralRules category; `other` is always there.
  if (entry && typeof entry === "object") entry = entry[plurals.select(Number(params.count))] ?? entry.other;
  return typeof entry === "string" ? entry : key;
}

function value(v) {
  return typeof v === "number" ? numbers.format(v) : String(v);
}

/** The string for `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  return template(key, params).replace(/\{(\w+)\}/g, (whole, name) => (name in params ? value(params[name]) : whole));
}

/**
 * Like `t`, but as nodes: a parameter that is a Node (a <strong>, a <time>, a
 * button) is put in its place, so markup never travels inside a catalogue string.
 */
export function tn(key, params = {}) {
  return template(key, params)
    .split(/(\{\w+\})/)
    .filter((part) => part !== "")
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (!name || !(name in params)) return document.createTextNode(part);
      const v = params[name];
      return v instanceof Node ? v : document.createTextNode(value(v));
    });
}

/**
 * Fills the static markup: `data-i18n="key"` sets the text (children marked
 * `data-slot="name"` become the `{name}` placeholders), and
 * `data-i18n-attr="aria-label:key alt:key"` sets attributes.
 */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    const slots = Object.fromEntries([...el.querySelectorAll(":scope > [data-slot]")].map((s) => [s.dataset.slot, s]));
    el.replaceChildren(...tn(el.dataset.i18n, slots));
  }
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.trim().split(/\s+/)) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr, t(key));
    }
  }
}

export function formatDateTime(when) {
  return dateTime.format(new Date(when));
}

export function formatTime(when) {
  return timeOnly.format(new Date(when));
}

/** The switch: one link per language, each named in its own language, the current one marked. */
function renderSwitch() {
  const box = document.getElementById("languages");
  if (!box) return;
  box.setAttribute("aria-label", t("language.switch"));
  box.replaceChildren(
    ...Object.entries(LANGUAGES).map(([code, name]) => {
      const link = document.createElement("a");
      const target = () => {
        const url = new URL(location.href);
        url.searchParams.set("lang", code);
        // Never the fragment: an email's link holds its single-use token there, and this
        // runs before the page has taken it (link-token.js); a copied or middle-clicked
        // switch would carry the token away (docs/security.md R12g).
        url.hash = "";
        return url.href;
      };
      link.href = target();
      link.hreflang = code;
      link.lang = code;
      link.textContent = name;
      if (code === lang) link.setAttribute("aria-current", "true");
      // The page may have changed its address since (history.replaceState): link to where it is now.
      link.addEventListener("click", (event) => {
        link.href = target();
        // An email link's page still holding its token (link-token.js): a plain click (or Enter) goes on in this
        // tab with it in the fragment, which the next page takes and cleans again; without it the link is lost.
        // Only here, never in the href, and not for a click that opens another tab or window (docs/security.md R12g).
        if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
        const token = heldLinkToken();
        // A spent link's page: what became of the link goes along instead, never the token (link-token.js).
        if (!token) return passLinkOutcome();
        event.preventDefault();
        location.assign(`${link.href}#${new URLSearchParams({ token })}`);
      });
      const item = document.createElement("li");
      item.append(link);
      return item;
    }),
  );
}

document.documentElement.lang = lang;
translate(document);
renderSwitch();
