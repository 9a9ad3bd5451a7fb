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

/** The token was used, or refused for good: a change of language no longer takes it along. */
export function dropLinkToken() {
  held = null;
}

/** The token the page still holds, for the language switch's click (i18n.js); null on other pages. */
export function heldLinkToken() {
  return held;
}
