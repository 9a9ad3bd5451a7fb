// /device#token=…: the one-time sign-in link emailed when the right password
// came from a new browser while the account's logins were being slowed down.
// Opened in that browser, it gives the browser its own login bucket.
import { api, describe } from "./api.js";
import { t } from "./i18n.js";
import { takeLinkToken } from "./link-token.js";
import { $, say, show } from "./ui.js";

const token = takeLinkToken();

async function run() {
  if (!token) {
    say($("#device-error"), t("account.noToken"));
    return;
  }
  try {
    await api("POST", "/api/auth/device-link", { token });
    say($("#device-result"), t("device.done"), "success");
    show($("#device-next"), true);
  } catch (err) {
    say($("#device-error"), describe(err, { invalid_token: t("device.invalid") }));
  }
}

run();
