// /invitations#token=…: the link from an invitation email. Accepting needs
// the invited account, logged in; the token proves that the account's owner
// reads the invited address, so an account whose email is not yet verified
// may accept with it (and its email becomes verified). The token is kept for
// this tab while the person logs in or signs up (sessionStorage), then used.
import { api, describe, whoAmI } from "./api.js";
import { t, tn } from "./i18n.js";
import { takeLinkToken } from "./link-token.js";
import { renderNav } from "./nav.js";
import { $, busy, data, say, show } from "./ui.js";

const KEY = "invitationToken";
const fromLink = takeLinkToken();
if (fromLink) sessionStorage.setItem(KEY, fromLink);
const token = sessionStorage.getItem(KEY);
const error = $("#invitation-error");

async function run() {
  show($("#invitation-loading"), false);
  if (!token) {
    say(error, t("account.noToken"));
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
    sessionStorage.removeItem(KEY);
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
      sessionStorage.removeItem(KEY);
      show(accept, false);
      say($("#invitation-result"), t("invitee.joined"), "success");
      show($("#invitation-next"), true);
    } catch (err) {
      say(error, describe(err, { invalid_token: t("invitee.invalid"), not_found: t("invitee.invalid") }));
    }
  });
}

run();
