// The token a link from an email carries after `#` (never in the path or the
// query: it stays out of logs and Referer). It is read once and removed from
// the address bar and the history, so it is not left on screen or shared by a
// copied address. A link opened in a tab already showing the same page only
// changes the fragment: the page starts again to read it.
//
// The page keeps it in memory while it can still be used, for one thing
// besides its button: a click on the language switch takes it along to the
// page in the other language (i18n.js), or the person would have to go back to
// the email. Never in a link's href (docs/security.md R12g).
let held = null;

export function takeLinkToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).has("token")) location.reload();
  });
  held = token && token.length <= 200 ? token : null;
  return held;
}

// What became of the link once it is spent or refused for good (a word each page defines: "done",
// "invalid" …), for the language switch: the page in the other language says it again instead of "this
// address has no link in it". Only what happened, never the token; kept for one page load of this tab.
let outcome = null;
const OUTCOME = "spentLink";

/**
 * The token was used, or refused for good: a change of language no longer takes it along, and takes
 * `result` instead (what the page said of it), so the other language's page can say it too.
 */
export function dropLinkToken(result = null) {
  held = null;
  outcome = result;
}

/** For the language switch's click (i18n.js): what the next page, this one in another language, should say. */
export function passLinkOutcome() {
  if (outcome) sessionStorage.setItem(OUTCOME, JSON.stringify({ path: location.pathname, outcome }));
}

/**
 * What became of this page's link, when the language switch just left it here without one; once (a reload
 * says "no link" again, as for any address without a token). The page holds it for the next switch too.
 */
export function takeLinkOutcome() {
  let passed = null;
  try {
    passed = JSON.parse(sessionStorage.getItem(OUTCOME) ?? "null");
  } catch {}
  sessionStorage.removeItem(OUTCOME);
  outcome = passed?.path === location.pathname && typeof passed.outcome === "string" ? passed.outcome : null;
  return outcome;
}

/** The token the page still holds, for the language switch's click (i18n.js); null on other pages. */
export function heldLinkToken() {
  return held;
}
