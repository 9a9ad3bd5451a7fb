// /verify-email#token=…: the link from the signup email. It works in any
// browser, logged in or not: the token alone proves the address.
//
// The token is posted only when the person clicks, never as the page opens:
// mail scanners open links in a browser that runs scripts, and a claim on load
// would let a victim's scanner prove an account someone else made with the
// victim's address (docs/security.md, R9a).
import { ApiError, api, describe } from "./api.js";
import { t } from "./i18n.js";
import { dropLinkToken, takeLinkOutcome, takeLinkToken } from "./link-token.js";
import { $, busy, say, show } from "./ui.js";

const token = takeLinkToken();
const form = $("#verify-email-form");
const result = $("#verify-email-result");
const error = $("#verify-email-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(error, "");
  try {
    await busy($("button[type=submit]", form), () => api("POST", "/api/auth/verify-email", { token }));
    dropLinkToken("done");
    show(form, false);
    say(result, t("confirmation.done"), "success");
    show($("#verify-email-next"), true);
  } catch (err) {
    say(error, describe(err, { invalid_token: t("confirmation.invalid") }));
    // A spent or replaced link will not work on a second click; anything else (the network) may.
    if (err instanceof ApiError && err.code === "invalid_token") {
      dropLinkToken("invalid");
      show(form, false);
      show($("#verify-email-next"), true);
    }
  }
});

// Without a token, the language switch may have just brought the page of a spent link: it says again what
// became of it, with the way on, rather than "this address has no link in it".
const spent = token ? null : takeLinkOutcome();
if (token) show(form, true);
else if (spent === "done") say(result, t("confirmation.done"), "success");
else say(error, t(spent === "invalid" ? "confirmation.invalid" : "account.noToken"));
if (!token) show($("#verify-email-next"), true);
