import { describe, expect, it } from "vitest";
import { emailLang, langOfAcceptLanguage } from "./language";

describe("langOfAcceptLanguage", () => {
  it.each([
    ["fr", "fr"],
    ["fr-FR", "fr"],
    ["fr-CA,fr;q=0.9,en;q=0.8", "fr"],
    ["FR-ch", "fr"],
    ["en-US,en;q=0.9", "en"],
    // Browsers' real headers: the first language we have wins by weight.
    ["de-DE,de;q=0.9,fr;q=0.8,en;q=0.7", "fr"],
    ["de-DE,de;q=0.9,en;q=0.8,fr;q=0.7", "en"],
    // Weights, not order, decide; the earlier range wins a tie.
    ["en;q=0.5,fr;q=0.8", "fr"],
    ["fr;q=0.5, en;q=0.5", "fr"],
    ["en;q=0.500, fr;q=1.0", "fr"],
    // q=0 means "not this one".
    ["fr;q=0, en", "en"],
    ["en;q=0,fr;q=0.1", "fr"],
    // Nothing we have, a wildcard, or nothing at all: English.
    ["de, es;q=0.5", "en"],
    ["*", "en"],
    ["", "en"],
    // Malformed ranges and weights are skipped, never an error.
    ["fr;q=2, en", "en"],
    ["fr;q=abc, en;q=0.2", "en"],
    ["f r, fr-", "en"],
    ["<script>, fr", "fr"],
    [";;;,,,fr", "fr"],
  ])("%j → %s", (header, expected) => {
    expect(langOfAcceptLanguage(header)).toBe(expected);
  });

  it("no header at all is English", () => {
    expect(langOfAcceptLanguage(null)).toBe("en");
    expect(langOfAcceptLanguage(undefined)).toBe("en");
  });

  it("reads only the start of a long header: twenty ranges at most", () => {
    expect(langOfAcceptLanguage(`${"de;q=0.9,".repeat(19)}fr`)).toBe("fr");
    expect(langOfAcceptLanguage(`${"de;q=0.9,".repeat(20)}fr`)).toBe("en");
    expect(langOfAcceptLanguage(`${"x".repeat(100_000)},fr`)).toBe("en");
  });
});

describe('emailLang: the language of an email (docs/email.md "Which language")', () => {
  it("a request the recipient made through a proven session speaks for them, whatever they used before", () => {
    expect(emailLang("fr", { stored: "en", ownProvenRequest: true })).toBe("fr");
    expect(emailLang("en", { stored: "fr", ownProvenRequest: true })).toBe("en");
  });

  it("anyone else's request (an admin, a half-logged-in guesser) yields to the recipient's stored language", () => {
    expect(emailLang("en", { stored: "fr", ownProvenRequest: false })).toBe("fr");
    expect(emailLang("fr", { stored: "en", ownProvenRequest: false })).toBe("en");
  });

  it("with no stored language (no account, or no login yet), the request's", () => {
    expect(emailLang("fr", { stored: null, ownProvenRequest: false })).toBe("fr");
    expect(emailLang("en", { stored: null, ownProvenRequest: false })).toBe("en");
  });
});
