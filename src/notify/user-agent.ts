/**
 * A User-Agent header, as an email may show it: the browser family and the
 * operating system, from a fixed list, or a fixed phrase.
 *
 * Why not the raw header: whoever sends the request chooses it. Someone who
 * knows a user's password can guess codes until the account locks, and the
 * lockout email would then carry up to 512 characters of their text ("visit
 * http://… to secure your account") from our address, in the message users are
 * told to trust. Only words from the lists below ever reach an email; the raw
 * value stays in the security log (GET /api/security), shown as data.
 */

import type { Lang } from "./language";
import { t } from "./words";

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\b(OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\b(Firefox|FxiOS)\//, "Firefox"],
  [/\b(Chrome|CriOS|Chromium)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/^curl\//, "curl"],
];

// iOS before macOS: iPhone user agents say "like Mac OS X".
const SYSTEMS: [RegExp, string][] = [
  [/\b(iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

function first(list: [RegExp, string][], ua: string): string | null {
  for (const [pattern, name] of list) if (pattern.test(ua)) return name;
  return null;
}

/** The browser and system in the reader's language (English unless told): only the lists' names and the catalogue's words. */
export function describeUserAgent(ua: string | null, lang: Lang = "en"): string {
  if (!ua) return t(lang, "browser.unknown");
  const browser = first(BROWSERS, ua);
  const system = first(SYSTEMS, ua);
  if (browser && system) return t(lang, "browser.onSystem", { browser, system });
  if (browser) return browser;
  if (system) return t(lang, "browser.anyOnSystem", { system });
  return t(lang, "browser.unrecognised");
}
