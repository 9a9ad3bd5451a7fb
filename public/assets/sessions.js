// The Security page's sessions card: every browser signed in to the account,
// "this browser" marked, with "Sign out" for each and "Sign out everywhere
// else", each behind a confirmation that says what happens.
import { ApiError, api, describe } from "./api.js";
import { browserInWords } from "./browser-words.js";
import { formatDateTime, t } from "./i18n.js";
import { $, ask, busy, data, focusStep, h, say, show } from "./ui.js";

let onSignedOut = () => {};

/** Loads and shows the list; `signedOut` runs when this browser's own session was ended from the list. */
export async function loadSessions(signedOut) {
  onSignedOut = signedOut ?? onSignedOut;
  const box = $("#sessions-error");
  try {
    const { sessions } = await api("GET", "/api/security/sessions");
    say(box, "");
    renderSessions(sessions);
  } catch (err) {
    say(box, describe(err));
  }
}

/**
 * Something else just ended sessions (a password change): the list is reloaded by the page, and what
 * the card said before ("… is signed out.") is about a list that is gone, so it leaves with it.
 */
export function forgetSessionsResult() {
  say($("#sessions-status"), "");
}

function renderSessions(sessions) {
  show($("#sessions-card"), true);
  const list = $("#sessions");
  list.replaceChildren(...sessions.map(sessionItem));
  show(
    $("#sessions-others"),
    sessions.some((s) => !s.current),
  );
  $("#sessions-count").textContent = t("sessions.count", { count: sessions.length });
}

function sessionItem(s) {
  const browser = browserInWords(s.browser);
  return h(
    "li",
    { "data-session-id": s.id, ...(s.current ? { "data-current": "true" } : {}) },
    h(
      "div",
      { class: "row-main" },
      h("strong", {}, browser),
      s.current ? [" ", h("span", { class: "badge" }, t("sessions.thisBrowser"))] : null,
      h("br"),
      h(
        "span",
        { class: "muted small" },
        s.ip ? [t("sessions.ip"), " ", data("span", s.ip), " · "] : null,
        t("sessions.signedIn", { date: formatDateTime(s.createdAt) }),
        " · ",
        t("sessions.lastSeen", { date: formatDateTime(s.lastSeenAt) }),
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
          "aria-label": s.current
            ? t("sessions.signOutThisNamed")
            : t("sessions.signOutNamed", { browser: browserInWords(s.browser, { inSentence: true }), date: formatDateTime(s.createdAt) }),
          onclick: (e) => signOut(s, browser, e.currentTarget),
        },
        t("sessions.signOut"),
      ),
    ),
  );
}

async function signOut(session, browser, button) {
  const box = $("#sessions-error");
  say(box, "");
  const sure = await ask({
    title: t(session.current ? "sessions.confirmThisTitle" : "sessions.confirmOneTitle"),
    body: session.current
      ? t("sessions.confirmThis")
      : [h("p", {}, t("sessions.confirmOne", { browser, date: formatDateTime(session.createdAt) })), h("p", {}, t("sessions.confirmPassword"))],
    confirm: t("sessions.signOut"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await api("DELETE", `/api/security/sessions/${encodeURIComponent(session.id)}`);
      if (session.current) return onSignedOut();
      await loadSessions();
      say($("#sessions-status"), t("sessions.signedOutOne", { browser }), "success");
      focusStep($("#sessions-card"));
    } catch (err) {
      if (err instanceof ApiError && err.code === "not_found") {
        // Already ended (elsewhere, or by expiry): the list is simply out of date.
        await loadSessions();
        say($("#sessions-status"), t("sessions.alreadyEnded"), "success");
        return;
      }
      say(box, describe(err));
    }
  });
}

$("#sessions-others").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const box = $("#sessions-error");
  say(box, "");
  const sure = await ask({
    title: t("sessions.confirmOthersTitle"),
    body: [h("p", {}, t("sessions.confirmOthers")), h("p", {}, t("sessions.confirmPassword"))],
    confirm: t("sessions.signOutOthers"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await api("POST", "/api/security/sessions/revoke-others");
      await loadSessions();
      say($("#sessions-status"), t("sessions.signedOutOthers"), "success");
      focusStep($("#sessions-card"));
    } catch (err) {
      say(box, describe(err));
    }
  });
});
