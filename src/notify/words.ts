import type { MailKey } from "./i18n/en";
import type { Entry } from "./i18n/entry";
import { CATALOGUES, type Lang } from "./language";

export type Params = Readonly<Record<string, string | number>>;

/**
 * A catalogue's words for `key` in `lang`, with its `{placeholders}` filled in
 * one pass (a value that itself holds `{x}` stays as it is). A number in
 * `count` chooses the plural form and is written the language's way.
 */
export function t(lang: Lang, key: MailKey, params: Params = {}): string {
  const entry: Entry = CATALOGUES[lang][key];
  let text: string;
  if (typeof entry === "string") text = entry;
  else text = entry[new Intl.PluralRules(lang).select(Number(params.count))] ?? entry.other;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? new Intl.NumberFormat(lang).format(value) : value;
  });
}

/**
 * A date and time as the reader's language writes it, with its time zone
 * stated: UTC, since an email may be read anywhere and a week later.
 * ("Saturday, November 28, 2026 at 8:35:07 PM UTC", "samedi 28 novembre 2026 à 20:35:07 UTC").
 */
export function dateTime(lang: Lang, ms: number): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "long", timeZone: "UTC" }).format(ms);
}
