import { en, type MailCatalogue } from "./i18n/en";
import { fr } from "./i18n/fr";

/**
 * The languages emails are written in: one catalogue file each in
 * src/notify/i18n/. Adding a language is adding its file and one line here
 * (docs/email.md "Add a language").
 */
export const CATALOGUES = { en, fr } as const satisfies Record<string, MailCatalogue>;

export type Lang = keyof typeof CATALOGUES;

/** What an email falls back to when nothing names a language we have. */
export const DEFAULT_LANG: Lang = "en";

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && Object.hasOwn(CATALOGUES, value);
}

/** A stored language (D1 `users.lang`), or null when it is none we still have. */
export function storedLang(value: unknown): Lang | null {
  return isLang(value) ? value : null;
}

// A header is the client's to write: only so much of it is read.
const MAX_HEADER = 512;
const MAX_RANGES = 20;
const RANGE = /^([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)$/;
const QUALITY = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/i;

/**
 * The language of an `Accept-Language` header (RFC 9110 §12.5.4): the range
 * with the highest quality we have a catalogue for, the earliest on a tie; a
 * range matches by its full tag, then by its primary subtag (`fr-CA` gets
 * French); `q=0` means "not this one"; a malformed range is skipped. Nothing
 * we have, `*` or no header: English.
 */
export function langOfAcceptLanguage(header: string | null | undefined): Lang {
  if (!header) return DEFAULT_LANG;
  const ranges: { tag: string; q: number; order: number }[] = [];
  for (const [order, part] of header.slice(0, MAX_HEADER).split(",").slice(0, MAX_RANGES).entries()) {
    const [range = "", ...params] = part.split(";").map((s) => s.trim());
    if (!RANGE.test(range)) continue;
    let q = 1;
    for (const param of params) {
      const m = QUALITY.exec(param);
      if (m) q = Number(m[1]);
      else if (/^q=/i.test(param)) q = Number.NaN; // a malformed weight: the range is skipped
    }
    if (q > 0) ranges.push({ tag: range.toLowerCase(), q, order });
  }
  ranges.sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { tag } of ranges) {
    if (isLang(tag)) return tag;
    const primary = tag.split("-")[0];
    if (isLang(primary)) return primary;
  }
  return DEFAULT_LANG;
}

/**
 * The language of an email (docs/email.md "Which language"): the request's
 * when the recipient made it through a session that has proven who they are
 * (fully logged in, or enrolling after a recovery code); otherwise the
 * recipient's stored language (their last login's), and with none, the
 * request's. At the second-factor step only the password is proven, so
 * whoever sends that request does not choose the language of the lockout
 * email the account's owner reads.
 */
export function emailLang(request: Lang, recipient: { stored: Lang | null; ownProvenRequest: boolean }): Lang {
  if (recipient.ownProvenRequest) return request;
  return recipient.stored ?? request;
}
