// The token a link from an email carries after `#` (never in the path or the
// query: it stays out of logs and Referer). It is read once and removed from
// the address bar and the history, so it is not left on screen or shared by a
// copied address. A link opened in a tab already showing the same page only
// changes the fragment: the page starts again to read it.
export function takeLinkToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  addEventListener("hashchange", () => {
    if (new URLSearchParams(location.hash.slice(1)).has("token")) location.reload();
  });
  return token && token.length <= 200 ? token : null;
}
