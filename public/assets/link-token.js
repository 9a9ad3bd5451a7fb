// The token a link from an email carries after `#` (never in the path or the
// query: it stays out of logs and Referer). It is read once and removed from
// the address bar and the history, so it is not left on screen or shared by a
// copied address.
export function takeLinkToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return token && token.length <= 200 ? token : null;
}
