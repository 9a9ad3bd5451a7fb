// /verify-email#token=…: the link from the signup email. It works in any
// browser, logged in or not: the token alone proves the address.
import { api, describe } from "./api.js";
import { t } from "./i18n.js";
import { takeLinkToken } from "./link-token.js";
import { $, say, show } from "./ui.js";

const token = takeLinkToken();
const result = $("#verify-email-result");
const error = $("#verify-email-error");

async function run() {
  if (!token) {
    say(error, t("account.noToken"));
  } else {
    try {
      await api("POST", "/api/auth/verify-email", { token });
      say(result, t("confirmation.done"), "success");
    } catch (err) {
      say(error, describe(err, { invalid_token: t("confirmation.invalid") }));
    }
  }
  show($("#verify-email-working"), false);
  show($("#verify-email-next"), true);
}

run();
