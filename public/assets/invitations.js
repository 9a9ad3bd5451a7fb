// /invitations#token=…: the link from an invitation email. Accepting needs
// the invited account, logged in; the token proves that the account's owner
// reads the invited address, so an account whose email is not yet verified
// may accept with it (and its email becomes verified). The token is kept for
// this tab while the person logs in or signs up (sessionStorage), then used.
// While it is kept, the login page sends the person back here (login.js
// showHome), so it is forgotten as soon as it can no longer work.
import { ApiError, api, describe, whoAmI } from "./api.js";
import { t, tn } from "./i18n.js";
import { dropLinkToken, takeLinkOutcome, takeLinkToken } from "./link-token.js";
import { renderNav } from "./nav.js";
import { $, busy, data, say, show } from "./ui.js";

const KEY = "invitationToken";
const fromLink = takeLinkToken();
if (fromLink) sessionStorage.setItem(KEY, fromLink);
const token = sessionStorage.getItem(KEY);
const error = $("#invitation-error");

/** The token can no longer be used; `outcome` is what the page said of it, for the language switch (link-token.js). */
function forget(outcome) {
  sessionStorage.removeItem(KEY);
  dropLinkToken(outcome);
}

/**
 * The page of a spent link, brought by the language switch without one: it says again what became of the
 * link, with the way on to the account, rather than "this address has no link in it". False when it was not.
 */
async function saySpent() {
  const spent = takeLinkOutcome();
  if (spent === "joined") say($("#invitation-result"), t("invitee.joined"), "success");
  else if (spent === "invalid") say(error, t("invitee.invalid"));
  else if (spent === "notForYou") {
    const who = await whoAmI();
    if (who.me?.stage !== "authenticated") return false;
    renderNav(who.me);
    $("#invitation-what").replaceChildren(...tn("invitee.notForYou", { email: data("strong", who.me.user.email) }));
  } else return false;
  dropLinkToken(spent);
  show($("#invitation-next"), true);
  return true;
}

/**
 * A refusal the same click may get past later: the network, a session to log in
 * again or to finish, a throttle, the server. Every other answer of the accept
 * (docs/api.md: used, expired, withdrawn or not this account's `404 not_found`,
 * a wrong link's `400 invalid_token`) holds whatever the person does here.
 */
function mayPassLater(err) {
  if (!(err instanceof ApiError)) return true;
  if (err.code === "second_factor_required" || err.code === "enrollment_required") return true;
  return err.status === 0 || err.status === 401 || err.status === 429 || err.status >= 500;
}

async function run() {
  show($("#invitation-loading"), false);
  if (!token) {
    if (!(await saySpent())) say(error, t("account.noToken"));
    return;
  }
  const id = token.split(".")[0];
  const who = await whoAmI();
  if (who.me?.stage !== "authenticated") {
    renderNav(who.me ?? null);
    show($("#invitation-login"), true);
    return;
  }
  renderNav(who.me);
  let invitation = null;
  try {
    const { invitations } = await api("GET", "/api/invitations");
    invitation = invitations.find((i) => i.id === id) ?? null;
  } catch (err) {
    // Kept for a reload: the list could not be read, which says nothing of the link.
    say(error, describe(err));
    return;
  }
  if (!invitation) {
    // Nothing to accept with it: kept, it would send every visit to the account page back here (login.js showHome).
    forget("notForYou");
    $("#invitation-what").replaceChildren(...tn("invitee.notForYou", { email: data("strong", who.me.user.email) }));
    show($("#invitation-next"), true);
    return;
  }
  $("#invitation-what").replaceChildren(
    ...tn(invitation.role === "admin" ? "invitee.whatAdmin" : "invitee.whatMember", { community: data("strong", invitation.community.name) }),
  );
  const accept = $("#invitation-accept");
  show(accept, true);
  accept.addEventListener("click", async () => {
    say(error, "");
    try {
      await busy(accept, () => api("POST", `/api/invitations/${encodeURIComponent(id)}/accept`, { token }));
      forget("joined");
      show(accept, false);
      say($("#invitation-result"), t("invitee.joined"), "success");
      show($("#invitation-next"), true);
    } catch (err) {
      say(error, describe(err, { invalid_token: t("invitee.invalid"), not_found: t("invitee.invalid") }));
      if (err instanceof ApiError && err.status === 401) {
        // The session ended meanwhile: the token waits while the person logs in again.
        show(accept, false);
        show($("#invitation-login"), true);
        return;
      }
      if (mayPassLater(err)) return;
      // A button that can only fail again goes, and the way on is the account.
      forget("invalid");
      show(accept, false);
      show($("#invitation-next"), true);
    }
  });
}

run();
