// The Security page's remembered browsers ("Remember this browser for 30 days"):
// the list, Forget one and Forget all, each after a confirmation.
import { ApiError, api, describe } from "./api.js";
import { browserInWords } from "./browser-words.js";
import { formatDateTime, t } from "./i18n.js";
import { $, ask, busy, data, focusStep, h, say, show } from "./ui.js";

// What Forget did is said in the card, where the person and the focus are: the page's
// #flash is a phone's screen height or more above it, out of sight.
const status = $("#trusted-status");
let browsers = [];

function label(b) {
  return browserInWords(b.browser);
}

function row(b) {
  const name = label(b);
  return h(
    "li",
    { "data-browser-id": b.id },
    h(
      "div",
      { class: "row-main" },
      h("strong", {}, name),
      b.current ? [" ", h("span", { class: "badge" }, t("trusted.thisBrowser"))] : null,
      h("br"),
      h(
        "span",
        { class: "muted small" },
        t("trusted.added", { date: formatDateTime(b.createdAt) }),
        " · ",
        b.lastUsedAt ? t("trusted.lastUsed", { date: formatDateTime(b.lastUsedAt) }) : t("trusted.neverUsed"),
        " · ",
        t("trusted.expires", { date: formatDateTime(b.expiresAt) }),
        b.ip ? [" · ", data("span", b.ip)] : null,
      ),
    ),
    h(
      "div",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          class: "danger-outline",
          "aria-label": t("trusted.forgetNamed", { browser: browserInWords(b.browser, { inSentence: true }) }),
          onclick: (e) => forget(b, e.currentTarget),
        },
        t("trusted.forget"),
      ),
    ),
  );
}

function render() {
  $("#trusted-list").replaceChildren(...browsers.map(row));
  show($("#trusted-list"), browsers.length > 0);
  show($("#trusted-empty"), browsers.length === 0);
  show($("#trusted-forget-all").parentElement, browsers.length > 0);
}

/** Loads and draws the card; shown only while two-factor authentication is on (otherwise nothing is remembered). */
export async function renderTrustedBrowsers(enabled) {
  show($("#trusted-card"), enabled);
  if (!enabled) return;
  try {
    ({ browsers } = await api("GET", "/api/security/trusted-browsers"));
    say($("#trusted-error"), "");
  } catch (err) {
    browsers = [];
    say($("#trusted-error"), describe(err));
  }
  render();
}

async function forget(b, button) {
  const box = $("#trusted-error");
  say(box, "");
  say(status, "");
  const name = label(b);
  const sure = await ask({
    title: t("trusted.forgetTitle", { browser: browserInWords(b.browser, { inSentence: true }) }),
    body: [h("p", {}, t(b.current ? "trusted.forgetWhatThis" : "trusted.forgetWhat"))],
    confirm: t("trusted.forget"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await api("DELETE", `/api/security/trusted-browsers/${encodeURIComponent(b.id)}`);
      say(status, t("trusted.forgotten", { browser: name }), "success");
    } catch (err) {
      // Already gone (forgotten elsewhere, or expired): the list below says what is left.
      if (!(err instanceof ApiError && err.code === "not_found")) return say(box, describe(err));
    }
    await renderTrustedBrowsers(true);
    focusStep($("#trusted-card"));
  });
}

$("#trusted-forget-all").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const box = $("#trusted-error");
  say(box, "");
  say(status, "");
  const sure = await ask({
    title: t("trusted.forgetAllTitle"),
    body: [h("p", {}, t("trusted.forgetAllWhat", { count: browsers.length }))],
    confirm: t("trusted.forgetAll"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await api("DELETE", "/api/security/trusted-browsers");
      say(status, t("trusted.allForgotten"), "success");
      await renderTrustedBrowsers(true);
      focusStep($("#trusted-card"));
    } catch (err) {
      say(box, describe(err));
    }
  });
});
