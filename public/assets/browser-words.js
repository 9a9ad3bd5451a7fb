// One name for one browser on every list of the Security page: the API names
// it (src/notify/user-agent.ts) for the sessions, the remembered browsers and
// the security log alike, and the page only says those words in its language.
// A second parser here named Opera or Samsung Internet "Chrome" on one list
// and by its name on the next.
import { t } from "./i18n.js";

/**
 * The API's English words from a fixed list: "Firefox on Windows", "Safari",
 * "a browser or app on Linux", "unknown browser". Said again in the page's
 * language; the browser and system names are names, not words to translate.
 * `{ inSentence: true }` for a place after other words ("Forget {browser}?",
 * "from {ip}, {browser}"): the descriptions that are not names start lower
 * case there, as "Forget a browser or app on Linux?", never "Forget A browser…".
 */
export function browserInWords(words, { inSentence = false } = {}) {
  const say = (key, params) => t(inSentence ? `${key}.inSentence` : key, params);
  if (!words || words === "unknown browser") return say("sessions.unknownBrowser");
  if (words === "unrecognised browser or app") return say("sessions.unrecognisedBrowser");
  const onSystem = /^a browser or app on (.+)$/.exec(words);
  if (onSystem) return say("sessions.someBrowserOn", { os: onSystem[1] });
  const pair = /^(.+) on (.+)$/.exec(words);
  if (pair) return t("event.browserOn", { browser: pair[1], os: pair[2] });
  return words;
}
