// The emails' catalogues (src/notify/i18n/<lang>.ts): every language has every
// key of the English one with the same placeholders and plural forms, none
// empty or left in English; every template renders in every language with no
// placeholder left; every key is used by some email. How to add an email or a
// language: docs/email.md.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES, OPERATOR_ACTOR, type SecurityEvent } from "../src/audit/events";
import { TOKEN_SLOT } from "../src/lib/email-token";
import type { Entry } from "../src/notify/i18n/entry";
import { CATALOGUES, type Lang } from "../src/notify/language";
import {
  adminResetNotice,
  deviceLinkMail,
  invitationMail,
  type MailContent,
  mailFor,
  newBrowserMail,
  passwordResetMail,
  policyChangedNotice,
  verifyEmailMail,
} from "../src/notify/templates";

type Catalogue = Readonly<Record<string, Entry>>;
const PLURAL_CATEGORIES = ["zero", "one", "two", "few", "many", "other"];
const en = CATALOGUES.en as Catalogue;
const LANGS = Object.keys(CATALOGUES) as Lang[];

function forms(entry: Entry): string[] {
  return typeof entry === "string" ? [entry] : Object.values(entry);
}

function placeholders(entry: Entry): string[] {
  return [...new Set(forms(entry).flatMap((v) => [...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string)))].sort();
}

/** What is wrong with `catalogue` next to the English one; empty when nothing. */
function problems(catalogue: Catalogue, lang: string): string[] {
  const found: string[] = [];
  for (const key of Object.keys(en)) if (!(key in catalogue)) found.push(`${lang}: missing ${key}`);
  for (const [key, entry] of Object.entries(catalogue)) {
    const reference = en[key];
    if (reference === undefined) {
      found.push(`${lang}: ${key} is not in en`);
      continue;
    }
    if (placeholders(entry).join() !== placeholders(reference).join())
      found.push(`${lang}: ${key} has {${placeholders(entry).join("} {")}}, en has {${placeholders(reference).join("} {")}}`);
    if (typeof entry !== typeof reference) found.push(`${lang}: ${key} is ${typeof entry === "string" ? "not " : ""}plural, en is the other way`);
    if (typeof entry !== "string" && !("other" in entry)) found.push(`${lang}: ${key} has no "other" form`);
    if (typeof entry !== "string")
      for (const category of Object.keys(entry)) if (!PLURAL_CATEGORIES.includes(category)) found.push(`${lang}: ${key} has form ${category}`);
    for (const value of forms(entry)) if (value.trim() === "") found.push(`${lang}: ${key} is empty`);
    if (lang !== "en" && JSON.stringify(entry) === JSON.stringify(reference)) found.push(`${lang}: ${key} is still the English words`);
  }
  return found;
}

describe("mail catalogues", () => {
  it("English and French are there", () => {
    expect(LANGS.sort()).toEqual(expect.arrayContaining(["en", "fr"]));
  });

  for (const lang of LANGS) {
    it(`${lang}: the same keys as English, with the same placeholders and plural shape, none empty${lang === "en" ? "" : " or untranslated"}`, () => {
      expect(problems(CATALOGUES[lang] as Catalogue, lang)).toEqual([]);
    });
  }

  it("the check fails when a catalogue lacks a key, changes a placeholder, adds a key or keeps English words", () => {
    const fr = { ...(CATALOGUES.fr as Catalogue) };
    delete fr["two_factor_enabled.subject"];
    fr["common.when"] = "Date : {quand}";
    fr["invitation.accept"] = "Pour accepter : {link}.";
    fr["backup_code_used.body"] = "Il reste {count} codes.";
    fr["common.ifNotYou"] = en["common.ifNotYou"] as Entry;
    fr["sessions.extra"] = "En trop";
    expect(problems(fr, "fr").sort()).toEqual(
      [
        "fr: missing two_factor_enabled.subject",
        "fr: common.when has {quand}, en has {time}",
        "fr: invitation.accept has {link}, en has {link} {time}",
        "fr: backup_code_used.body is not plural, en is the other way",
        "fr: common.ifNotYou is still the English words",
        "fr: sessions.extra is not in en",
      ].sort(),
    );
  });
});

// ---- every email, rendered --------------------------------------------------

const AT = Date.UTC(2026, 10, 28, 20, 35, 7);
const FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/** Every email the service sends, for one language, with data that reaches every branch of every template. */
function everyEmail(lang: Lang): [string, MailContent][] {
  const out: [string, MailContent][] = [];
  const event = (type: SecurityEvent["type"], data: SecurityEvent["data"] = {}): SecurityEvent => ({
    id: "e",
    userId: "u",
    type,
    at: AT,
    ip: "192.0.2.1",
    userAgent: FIREFOX,
    data,
  });
  const variants: [string, SecurityEvent][] = [];
  for (const type of EVENT_TYPES) variants.push([type, event(type, { methodType: "totp", methodName: "Phone", remaining: 9, communityName: "Acme" })]);
  variants.push(["method_added (key)", event("method_added", { methodType: "webauthn", methodName: "YubiKey" })]);
  variants.push(["method_removed (key)", event("method_removed", { methodType: "webauthn", methodName: "YubiKey" })]);
  variants.push(["backup_code_used (1 left)", event("backup_code_used", { remaining: 1 })]);
  variants.push(["password_reset (2FA removed)", event("password_reset", { twoFactorRemoved: 1 })]);
  variants.push(["locked_out (no address, no browser)", { ...event("locked_out"), ip: null, userAgent: null }]);
  variants.push(["locked_out (unrecognised browser)", { ...event("locked_out"), userAgent: "JourneyBrowser/1.0" }]);
  variants.push(["locked_out (system only)", { ...event("locked_out"), userAgent: "Something (Android 14)" }]);
  variants.push(["locked_out (1 hour)", event("locked_out", { lockMinutes: 60 })]);
  variants.push(["locked_out (16 hours)", event("locked_out", { lockMinutes: 960 })]);
  for (const [label, e] of variants) {
    const content = mailFor(e, lang, { actor: { name: "Ada", communityName: "Acme" } });
    if (content) out.push([label, content]);
  }
  for (const role of ["member", "admin"]) {
    out.push([
      `invitation (${role})`,
      invitationMail({ communityName: "Acme", inviterName: "Ada", role, expiresAt: AT + 7 * 86_400_000, origin: "https://2fa.example", at: AT }, lang),
    ]);
  }
  out.push(["new_browser_login", newBrowserMail(event("new_browser_login"), lang, "https://2fa.example")]);
  out.push(["recovery_code_issued (operator)", mailFor({ ...event("recovery_code_issued"), actorId: OPERATOR_ACTOR }, lang) as MailContent]);
  for (const [label, requireTwoFactor, graceDays, allowTrustedBrowsers] of [
    ["policy_changed_notice (required, 1 day, no trusted browsers)", true, 1, false],
    ["policy_changed_notice (required, 7 days)", true, 7, true],
    ["policy_changed_notice (not required)", false, 7, true],
  ] as const) {
    out.push([label, policyChangedNotice({ actorName: "Ada", communityName: "Acme", requireTwoFactor, graceDays, allowTrustedBrowsers, at: AT }, lang)]);
  }
  // The emails that carry a single-use link (its token is TOKEN_SLOT until delivery).
  out.push(["verify_email", verifyEmailMail({ origin: "https://2fa.example", at: AT }, lang)]);
  out.push(["password_reset_link", passwordResetMail({ origin: "https://2fa.example", at: AT }, lang)]);
  out.push(["device_link", deviceLinkMail({ origin: "https://2fa.example", at: AT }, lang)]);
  out.push([
    "admin_reset_notice",
    adminResetNotice({ actorName: "Ada", targetName: "Bob", targetEmail: "bob@example.com", communityName: "Acme", at: AT }, lang),
  ]);
  out.push([
    "admin_reset_notice (another community's admin)",
    adminResetNotice({ actorName: "Ada", elsewhere: true, targetName: "Bob", targetEmail: "bob@example.com", communityName: "Acme", at: AT }, lang),
  ]);
  out.push([
    "admin_reset_notice (operator)",
    adminResetNotice(
      { actorName: "the service's operator", byOperator: true, targetName: "Bob", targetEmail: "bob@example.com", communityName: "Acme", at: AT },
      lang,
    ),
  ]);
  return out;
}

describe("every email in every language", () => {
  for (const lang of LANGS) {
    it(`${lang}: every template renders, no placeholder left, a subject of one line, the time in UTC`, () => {
      const emails = everyEmail(lang);
      expect(emails.map(([label]) => label)).toEqual(
        expect.arrayContaining([
          "two_factor_enabled",
          "member_removed",
          "invitation (admin)",
          "admin_reset_notice",
          "password_changed",
          "password_reset (2FA removed)",
          "verify_email",
          "password_reset_link",
          "device_link",
        ]),
      );
      for (const [label, { subject, text }] of emails) {
        expect(`${subject}\n${text}`, `${lang} ${label}`).not.toMatch(/\{\w+\}|undefined|NaN|\[object/);
        expect(subject.trim(), `${lang} ${label}`).not.toBe("");
        expect(subject, `${lang} ${label}`).not.toMatch(/[\r\n]/);
        expect(text, `${lang} ${label}`).toMatch(/ UTC\b/);
      }
    });
  }

  it("the words are each language's own: dates, plurals, the browser", () => {
    const byLabel = (lang: Lang) => new Map(everyEmail(lang));
    const en = byLabel("en");
    const fr = byLabel("fr");
    // Independent references: the dates as each language writes them (CLDR, by hand), the plural as each grammar wants it.
    expect(en.get("two_factor_enabled")?.text).toMatch(/^When: Saturday, November 28, 2026 at 8:35:07\s?PM UTC$/m);
    expect(fr.get("two_factor_enabled")?.text).toContain("\nDate\u00a0: samedi 28 novembre 2026 à 20:35:07 UTC\n");
    expect(fr.get("invitation (member)")?.text).toContain("Elle expire le samedi 5 décembre 2026 à 20:35:07 UTC.");
    expect(en.get("backup_code_used")?.text).toContain("9 backup codes remain.");
    expect(en.get("backup_code_used (1 left)")?.text).toContain("1 backup code remains.");
    expect(fr.get("backup_code_used")?.text).toContain("Il vous reste 9 codes de secours.");
    expect(fr.get("backup_code_used (1 left)")?.text).toContain("Il vous reste 1 code de secours.");
    expect(fr.get("two_factor_enabled")?.text).toContain("Depuis\u00a0: 192.0.2.1 (Firefox sous Linux)");
    expect(fr.get("locked_out (no address, no browser)")?.text).toContain("Depuis\u00a0: adresse inconnue (navigateur inconnu)");
    expect(fr.get("locked_out (system only)")?.text).toContain("(un navigateur ou une application sous Android)");
    expect(fr.get("method_added (key)")?.text).toContain('Une nouvelle clé de sécurité, "YubiKey", a été ajoutée');
    // Each link email carries its link on a line of its own, the token's slot after `#`, in every language.
    const links: [string, string][] = [
      ["verify_email", "verify-email"],
      ["password_reset_link", "reset-password"],
      ["device_link", "device"],
      ["invitation (member)", "invitations"],
    ];
    for (const [label, page] of links) {
      for (const mails of [en, fr]) expect(mails.get(label)?.text.split("\n")).toContain(`https://2fa.example/${page}#token=${TOKEN_SLOT}`);
    }
  });

  it("every key of the catalogue is used by some email", () => {
    const english = everyEmail("en")
      .map(([, m]) => `${m.subject}\n${m.text}`)
      .join("\n");
    // The words around the placeholders must each appear in some rendered email.
    const unused = Object.entries(en).filter(([, entry]) =>
      forms(entry).every((value) => value.split(/\{\w+\}/).some((piece) => piece.trim() !== "" && !english.includes(piece))),
    );
    expect(unused.map(([key]) => key)).toEqual([]);
  });
});
