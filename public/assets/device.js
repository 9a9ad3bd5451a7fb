// /device#token=…: the one-time sign-in link emailed when the right password
// came from a new browser while the account's logins were being slowed down.
// Opened in that browser, it gives the browser its own login bucket.
//
// The token is posted only when the person clicks, never as the page opens:
// a mail scanner that opens the link would spend it and take the device cookie
// into its own browser (docs/security.md, R9a).
import { ApiError, api, describe } from "./api.js";
import { t } from "./i18n.js";
import { dropLinkToken, takeLinkOutcome, takeLinkToken } from "./link-token.js";
import { $, busy, say, show } from "./ui.js";

const token = takeLinkToken();
const form = $("#device-form");
const error = $("#device-error");

/** The link gave this browser its login bucket: said after the click, and again on the page the language switch brings. */
function sayDone() {
  say($("#device-result"), t("device.done"), "success");
  show($("#device-next"), true);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  say(error, "");
  try {
    await busy($("button[type=submit]", form), () => api("POST", "/api/auth/device-link", { token }));
    dropLinkToken("done");
    show(form, false);
    sayDone();
  } catch (err) {
    say(error, describe(err, { invalid_token: t("device.invalid") }));
    // A spent or expired link will not work on a second click; anything else (the network) may.
    if (err instanceof ApiError && err.code === "invalid_token") {
      dropLinkToken("invalid");
      show(form, false);
    }
  }
});

// Without a token, the language switch may have just brought the page of a spent link: it says again what
// became of it rather than "this address has no link in it".
const spent = token ? null : takeLinkOutcome();
if (token) show(form, true);
else if (spent === "done") sayDone();
else say(error, t(spent === "invalid" ? "device.invalid" : "account.noToken"));
