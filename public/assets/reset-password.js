// /reset-password: ask for a link by email, or (opened from that link,
// #token=…) choose the new password. The request's answer is the same whether
// or not the address has an account.
import { ApiError, api, describe } from "./api.js";
import { t, tn } from "./i18n.js";
import { dropLinkToken, takeLinkOutcome, takeLinkToken } from "./link-token.js";
import { $, busy, data, focusStep, h, say, show, validateInLanguage } from "./ui.js";

validateInLanguage();
const token = takeLinkToken();

function open(id) {
  for (const s of ["reset-request", "reset-confirm", "reset-done"]) show($(`#${s}`), s === id);
  focusStep($(`#${id}`));
}

$("#reset-request-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const email = form.email.value.trim();
  const messages = $(".messages", form);
  say(messages, "");
  try {
    await busy($("button[type=submit]", form), () => api("POST", "/api/auth/password-reset", { email }));
    say($("#flash"), tn("forgot.sent", { email: data("strong", email) }), "success");
    form.reset();
    // The button was disabled while busy, which sent focus to the body: back to the card's heading.
    focusStep($("#reset-request-title"));
  } catch (err) {
    say(messages, describe(err));
  }
});

$("#reset-confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const messages = $(".messages", form);
  say(messages, "");
  try {
    await busy($("button[type=submit]", form), () => api("POST", "/api/auth/password-reset/confirm", { token, password: form.password.value }));
    dropLinkToken("done");
    form.reset();
    open("reset-done");
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "invalid_token")) return say(messages, describe(err));
    dropLinkToken("invalid");
    // A dead link is not fixed by another password: the way on is a new link,
    // asked for on this page without the token (its email field takes focus).
    const again = h("a", { href: "/reset-password" }, t("forgot.askAgain"));
    say(messages, tn("forgot.invalid", { ask: again }));
    again.focus();
  }
});

// Without a token, the language switch may have just brought the page of a spent link: the password
// changed (the way on is to log in), or the link was refused (the way on is a new one, asked for here).
const spent = token ? null : takeLinkOutcome();
if (token) open("reset-confirm");
else if (spent === "done") open("reset-done");
else {
  open("reset-request");
  if (spent === "invalid") say($("#reset-request-form .messages"), t("forgot.invalidAskBelow"));
}
