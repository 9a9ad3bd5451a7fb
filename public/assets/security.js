// The Security page: password confirmation ("sudo"), methods, adding an
// authenticator app or a security key, backup codes, preferred method,
// remembered browsers (trusted-browsers.js), turning 2FA off, and the recent security events. With an `enrollment`
// session (after an admin reset) only the add-method parts are shown.
import { ApiError, api, describe, endedHere, whoAmI } from "./api.js";
import { showBackupCodes } from "./backup-codes.js";
import { eventItem } from "./events.js";
import { formatDateTime, formatTime, t } from "./i18n.js";
import { renderNav } from "./nav.js";
import { forgetSessionsResult, loadSessions } from "./sessions.js";
import { renderTrustedBrowsers } from "./trusted-browsers.js";
import {
  $,
  ask,
  busy,
  copy,
  data,
  fewBackupCodes,
  field,
  focusStep,
  formDialog,
  group,
  h,
  methodLabel,
  say,
  show,
  typedCode,
  validateInLanguage,
} from "./ui.js";

let me = null;
let security = null;
// What an action did is said in the card it was done in, where the focus goes: on a phone the page's
// #flash is a screen or more above the methods, the backup codes or the status after turning 2FA off.
const methodsStatus = $("#methods-status");
const tfaResult = $("#tfa-result");
const ALL_CARDS = [
  "status-card",
  "methods-card",
  "totp-setup",
  "key-setup",
  "preferred-card",
  "backup-card",
  "trusted-card",
  "disable-card",
  "password-card",
  "events-card",
  "sessions-card",
];
validateInLanguage();

// ---- password confirmation -------------------------------------------------

/** The server allows sensitive changes for 10 minutes after the password; we stop a little earlier. */
const SUDO_MS = 10 * 60 * 1000 - 15_000;
// Remembered for this tab so a reload does not ask again; the server decides anyway (403 reauth_required).
let sudoUntil = Number(sessionStorage.getItem("sudoUntil")) || 0;
function setSudo(until) {
  sudoUntil = until;
  sessionStorage.setItem("sudoUntil", String(until));
  renderSudo();
}

function renderSudo() {
  const status = $("#sudo-status");
  if (me?.stage !== "authenticated") return;
  status.textContent = Date.now() < sudoUntil ? t("sudo.confirmedUntil", { time: formatTime(sudoUntil) }) : t("sudo.willAsk");
}
setInterval(renderSudo, 15_000);

const wrongPassword = () => ({ invalid_credentials: t("sudo.wrongPassword") });

function askPassword(reason) {
  return formDialog({
    title: t("sudo.title"),
    intro: h("p", {}, reason ?? t("sudo.intro")),
    fields: field({ label: t("sudo.password"), name: "password", type: "password", autocomplete: "current-password" }),
    submit: t("common.confirm"),
    onSubmit: async (form) => {
      await api("POST", "/api/security/reauth", { password: form.password.value });
      setSudo(Date.now() + SUDO_MS);
      return true;
    },
    errorText: (err) => describe(err, wrongPassword()),
  });
}

class Cancelled extends Error {}

/** Runs `action` with a fresh password confirmation, asking for it first or when the server says it lapsed. */
async function withSudo(action) {
  const fresh = me.stage === "enrollment" || Date.now() < sudoUntil;
  if (!fresh && !(await askPassword())) throw new Cancelled();
  try {
    return await action();
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "reauth_required")) throw err;
    setSudo(0);
    if (!(await askPassword(t("sudo.expired")))) throw new Cancelled();
    return await action();
  }
}

/** Shows an error from an action in `box`; a cancelled password prompt is not an error. */
function report(box, err, context) {
  if (err instanceof Cancelled) return;
  if (err instanceof ApiError && err.code === "unauthenticated") {
    location.assign("/");
    return;
  }
  say(box, describe(err, context));
}

// ---- loading and rendering -------------------------------------------------

async function init({ welcome = false } = {}) {
  const who = await whoAmI();
  if (who.error) {
    show($("#loading"), false);
    return say($("#page-error"), describe(who.error));
  }
  if (!who.me) {
    location.replace("/");
    return;
  }
  me = who.me;
  renderNav(me);
  if (me.stage === "enrollment") {
    show($("#loading"), false);
    for (const id of ALL_CARDS) show($(`#${id}`), id === "methods-card");
    show($("#enroll-banner"), true);
    // Sent here by a community's policy rather than by an admin's reset: say so.
    if (me.twoFactor.requiredBy && !me.twoFactor.enabled) {
      $("#enroll-banner strong").textContent = t("policy.enrollTitle");
      $("#enroll-banner span").textContent = t("policy.enrollText");
    }
    show($("#methods"), false);
    show($("#methods-empty"), false);
    $("#methods-title").textContent = t("security.enrollMethodsTitle");
    focusStep($("#enroll-banner").parentElement.querySelector("h1"));
    return;
  }
  show($("#enroll-banner"), false);
  $("#methods-title").textContent = t("security.methodsTitle");
  await refresh();
  show($("#loading"), false);
  // Back from a reset with a new method and saved codes: said in the status card, where focus goes.
  if (welcome) {
    say(tfaResult, t("security.backIn"), "success");
    focusStep($("#status-card"));
  }
}

async function refresh() {
  try {
    security = await api("GET", "/api/security");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.code === "second_factor_required")) location.replace("/");
    return say($("#page-error"), describe(err));
  }
  say($("#page-error"), "");
  render();
  // Ending this browser's own session from the list is a log out.
  await loadSessions(() => {
    endedHere();
    location.assign("/");
  });
}

function render() {
  const on = security.enabled;
  for (const id of ["status-card", "methods-card", "password-card", "events-card"]) show($(`#${id}`), true);
  for (const id of ["preferred-card", "backup-card", "disable-card"]) show($(`#${id}`), on);
  const status = $("#tfa-status");
  status.className = `status ${on ? "on" : "off"}`;
  status.replaceChildren(h("strong", {}, t(on ? "security.on" : "security.off")), " ", t(on ? "security.onText" : "security.offText"));
  renderSudo();
  renderMethods();
  renderPreferred();
  renderTrustedBrowsers(on);
  const left = security.backupCodes.remaining;
  const few = fewBackupCodes(left);
  $("#backup-remaining").replaceChildren(t("backup.remaining", { count: left, total: 10 }), ...(few ? [" ", t("backup.low")] : []));
  $("#backup-remaining").className = few ? "warning" : "";
  $("#events").replaceChildren(...security.events.map(eventItem));
  if (security.events.length === 0) $("#events").append(h("li", { class: "muted" }, t("events.none")));
}

function renderMethods() {
  const list = $("#methods");
  show(list, true);
  show($("#methods-empty"), security.methods.length === 0);
  list.replaceChildren(
    ...security.methods.map((m) =>
      h(
        "li",
        { "data-method-id": m.id },
        h(
          "div",
          { class: "row-main" },
          data("strong", m.name),
          " ",
          h("span", { class: "badge" }, methodLabel(m.type)),
          h("br"),
          h(
            "span",
            { class: "muted small" },
            t("security.added", { date: formatDateTime(m.createdAt) }),
            " · ",
            m.lastUsedAt ? t("security.lastUsed", { date: formatDateTime(m.lastUsedAt) }) : t("security.neverUsed"),
          ),
        ),
        h(
          "div",
          { class: "row-actions" },
          h(
            "button",
            { type: "button", class: "secondary", "aria-label": t("security.renameNamed", { name: m.name }), onclick: (e) => rename(m, e.currentTarget) },
            t("security.rename"),
          ),
          h(
            "button",
            { type: "button", class: "danger-outline", "aria-label": t("security.removeNamed", { name: m.name }), onclick: (e) => remove(m, e.currentTarget) },
            t("security.remove"),
          ),
        ),
      ),
    ),
  );
}

function renderPreferred() {
  const types = [...new Set(security.methods.map((m) => m.type))];
  const select = $("#preferred-select");
  select.replaceChildren(...types.map((type) => h("option", { value: type, selected: type === security.preferred }, methodLabel(type))));
  // A choice of one is no choice: say what happens instead of showing a one-item menu.
  const single = types.length < 2;
  for (const el of $("#preferred-form").children) if (!el.classList.contains("messages")) show(el, !single);
  $("#preferred-single").textContent = single
    ? t(types[0] === "webauthn" ? "preferred.singleKey" : "preferred.singleApp", { method: methodLabel(types[0] ?? "totp", { lower: true }) })
    : "";
  show($("#preferred-single"), single);
}

// ---- methods: rename and remove --------------------------------------------

async function rename(method, button) {
  const box = $("#methods-error");
  say(box, "");
  say(methodsStatus, "");
  try {
    await withSudo(async () => {
      const renamed = await formDialog({
        title: t("rename.title"),
        fields: field({ label: t("rename.label"), name: "name", value: method.name, maxlength: 64 }),
        submit: t("common.save"),
        onSubmit: (form) => api("PATCH", `/api/security/methods/${encodeURIComponent(method.id)}`, { name: form.name.value }),
        errorText: (err) => describe(err),
      });
      if (renamed) say(methodsStatus, t("rename.done", { name: renamed.method.name }), "success");
    });
    await refresh();
  } catch (err) {
    report(box, err);
  }
  // The list was redrawn: back to this method's Rename button, wherever it is now.
  const row = [...document.querySelectorAll("#methods li")].find((li) => li.dataset.methodId === method.id);
  (button.isConnected ? button : row?.querySelector("button"))?.focus();
}

async function remove(method, button) {
  const box = $("#methods-error");
  say(box, "");
  say(methodsStatus, "");
  const sure = await ask({
    title: t("remove.title", { name: method.name }),
    body: [h("p", {}, t("remove.what", { method: methodLabel(method.type, { lower: true }) })), h("p", {}, t("remove.sessions"))],
    confirm: t("security.remove"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await withSudo(() => api("DELETE", `/api/security/methods/${encodeURIComponent(method.id)}`));
      say(methodsStatus, t("remove.done", { name: method.name }), "success");
      await refresh();
      focusStep($("#methods-card"));
    } catch (err) {
      report(box, err, { last_method: t("remove.lastMethod") });
    }
  });
}

// ---- adding an authenticator app -------------------------------------------

let enrollmentId = null;

function closeSetups() {
  show($("#totp-setup"), false);
  show($("#key-setup"), false);
  say($("#totp-error"), "");
  say($("#key-error"), "");
  enrollmentId = null;
  forgetTOTPKey();
}

/**
 * The app's key is shown once, to be scanned or typed: once the setup is done or
 * cancelled it leaves the page (text, copy button's data, QR image, otpauth://
 * link), as the backup codes do, so nobody at this screen later can read it back.
 */
function forgetTOTPKey() {
  $("#totp-secret").textContent = "";
  delete $("#totp-secret").dataset.secret;
  $("#totp-qr").removeAttribute("src");
  $("#totp-open").setAttribute("href", "#");
  $("#totp-code").value = "";
}

for (const button of document.querySelectorAll("[data-cancel]")) {
  button.addEventListener("click", () => {
    closeSetups();
    $("#add-buttons button").focus();
  });
}

$("#add-totp").addEventListener("click", () => {
  closeSetups();
  const count = security?.methods.filter((m) => m.type === "totp").length ?? 0;
  $("#totp-name").value = count ? t("totp.defaultNameNumbered", { number: count + 1 }) : t("totp.defaultName");
  show($("#totp-name-form"), true);
  show($("#totp-scan"), false);
  show($("#totp-setup"), true);
  focusStep($("#totp-setup"));
});

// ---- the password ------------------------------------------------------------

$("#password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const messages = $(".messages", form);
  say(messages, "");
  say($("#password-status"), "");
  try {
    await busy($("button[type=submit]", form), () =>
      api("POST", "/api/security/password", { currentPassword: form.currentPassword.value, newPassword: form.newPassword.value }),
    );
    form.reset();
    // Said in the card, beside the focus: the page's #flash is far above it on a phone.
    say($("#password-status"), t("account.passwordChanged"), "success");
    // Every other session just ended: the sessions card is redrawn from the server, without its earlier result.
    forgetSessionsResult();
    await refresh();
    focusStep($("#password-title"));
  } catch (err) {
    say(messages, describe(err, { invalid_credentials: t("account.passwordWrong") }));
    // Focus goes back to what to fix (the button was disabled meanwhile, which sent it to the body).
    const code = err instanceof ApiError ? err.code : null;
    if (code === "invalid_credentials") form.currentPassword.select();
    else if (code === "invalid_request") form.newPassword.select();
    else $("button[type=submit]", form).focus();
  }
});

$("#totp-name-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  say($("#totp-error"), "");
  await busy($("button[type=submit]", form), async () => {
    try {
      const started = await withSudo(() => api("POST", "/api/security/totp", { name: form.name.value }));
      enrollmentId = started.id;
      // The SVG comes from our own API; as an <img> it cannot run anything or touch the page.
      $("#totp-qr").src = `data:image/svg+xml,${encodeURIComponent(started.qrSvg)}`;
      $("#totp-qr-description").textContent = t("totp.qrDescription", { account: me.user.email, issuer: t("app.name") });
      $("#totp-secret").textContent = group(started.secret, 4);
      $("#totp-secret").dataset.secret = started.secret;
      $("#totp-open").href = started.uri;
      // Only phones and tablets have an app that opens otpauth:// links.
      show($("#totp-open-row"), matchMedia("(pointer: coarse)").matches);
      $("#totp-code").value = "";
      show(form, false);
      show($("#totp-scan"), true);
      focusStep($("#totp-scan"));
    } catch (err) {
      report($("#totp-error"), err);
    }
  });
});

$("#totp-secret-copy").addEventListener("click", (event) => {
  copy($("#totp-secret").dataset.secret, event.currentTarget, $("#totp-secret-status"));
});

$("#totp-confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  say($("#totp-error"), "");
  await busy($("button[type=submit]", form), async () => {
    try {
      const name = $("#totp-name").value.trim();
      const result = await withSudo(() => api("POST", `/api/security/totp/${encodeURIComponent(enrollmentId)}/confirm`, { code: typedCode(form.code.value) }));
      closeSetups();
      await added(result, addedMessage("totp", result.method?.name ?? name));
    } catch (err) {
      report($("#totp-error"), err, { invalid_code: t("totp.wrongCode"), not_found: t("totp.expired") });
      form.code.select();
    }
  });
});

// ---- adding a security key -------------------------------------------------

class KeyError extends Error {}

if (window.PublicKeyCredential === undefined) {
  // Said in words beside the button, not only in a tooltip a keyboard never shows.
  $("#add-key").disabled = true;
  $("#add-key").setAttribute("aria-describedby", "add-key-unsupported");
  show($("#add-key-unsupported"), true);
}

$("#add-key").addEventListener("click", () => {
  closeSetups();
  $("#key-name").value = "";
  show($("#key-setup"), true);
  focusStep($("#key-setup"));
});

$("#key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const name = form.name.value;
  say($("#key-error"), "");
  await busy($("button[type=submit]", form), async () => {
    try {
      const result = await withSudo(async () => {
        const optionsJSON = await api("POST", "/api/security/webauthn/options");
        let response;
        try {
          const { startRegistration } = await import("/assets/vendor/webauthn.js");
          response = await startRegistration({ optionsJSON });
        } catch (err) {
          if (err?.name === "InvalidStateError" || err?.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED") throw new KeyError(t("key.alreadyMine"));
          if (err?.name === "NotAllowedError" || err?.code === "ERROR_CEREMONY_ABORTED") throw new KeyError(t("key.cancelled"));
          throw new KeyError(t("key.unsupported"));
        }
        return api("POST", "/api/security/webauthn", { name, response });
      });
      closeSetups();
      await added(result, addedMessage("webauthn", result.method?.name ?? name));
    } catch (err) {
      if (err instanceof KeyError) say($("#key-error"), err.message);
      else report($("#key-error"), err, { invalid_code: t("key.notVerified") });
    }
  });
});

function addedMessage(type, name) {
  const kind = methodLabel(type);
  return name && name !== kind ? t("security.addedNamed", { kind, name }) : t("security.addedKind", { kind });
}

/** After a confirmed method: backup codes when 2FA just turned on, else back to the list. */
async function added(result, message) {
  const wasEnrollment = me.stage === "enrollment";
  if (wasEnrollment) me = { ...me, stage: "authenticated" };
  // Said in the card that opens next, where focus goes (on a phone the page's #flash is a screen or more above).
  say(methodsStatus, "");
  say(tfaResult, "");
  if (result.backupCodes) {
    for (const id of ALL_CARDS) show($(`#${id}`), false);
    show($("#enroll-banner"), false);
    say($("#codes-status"), t("security.addedNowOn", { added: message }), "success");
    showBackupCodes(result.backupCodes, me.user.email, async () => {
      await init({ welcome: wasEnrollment });
      // The codes card and its button are gone: focus goes to the status that now says "On", not to the page's body.
      if (!wasEnrollment) focusStep($("#status-card"));
    });
    return;
  }
  say(methodsStatus, message, "success");
  await refresh();
  focusStep($("#methods-card"));
}

// ---- backup codes, preferred method, disable -------------------------------

$("#codes-regenerate").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const box = $("#backup-error");
  say(box, "");
  const sure = await ask({
    title: t("regenerate.title"),
    body: [h("p", { class: "warning" }, h("strong", {}, t("regenerate.warningStrong")), " ", t("regenerate.warning")), h("p", {}, t("regenerate.once"))],
    confirm: t("regenerate.confirm"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      const { codes } = await withSudo(() => api("POST", "/api/security/backup-codes"));
      for (const id of ALL_CARDS) show($(`#${id}`), false);
      say($("#codes-status"), t("regenerate.done"), "success");
      showBackupCodes(codes, me.user.email, async () => {
        await init();
        focusStep($("#backup-card"));
      });
    } catch (err) {
      report(box, err);
    }
  });
});

$("#preferred-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".messages", form);
  say(box, "");
  $("#preferred-status").textContent = "";
  await busy($("button[type=submit]", form), async () => {
    try {
      const { preferred } = await api("PUT", "/api/security/preferred", { method: form.method.value });
      security.preferred = preferred;
      $("#preferred-status").textContent = t("preferred.saved", { method: methodLabel(preferred, { lower: true }) });
    } catch (err) {
      report(box, err);
    }
  });
});

$("#disable-open").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const done = await formDialog({
    title: t("disable.dialogTitle"),
    intro: [h("ul", {}, h("li", {}, t("disable.removes")), h("li", {}, t("disable.passwordAlone")), h("li", {}, t("disable.sessions")))],
    fields: field({ label: t("disable.password"), name: "password", type: "password", autocomplete: "current-password" }),
    submit: t("disable.confirm"),
    danger: true,
    onSubmit: (form) => api("POST", "/api/security/disable", { password: form.password.value }),
    errorText: (err) => describe(err, wrongPassword()),
  });
  if (!done) return button.focus();
  setSudo(0);
  say(tfaResult, t("disable.done"), "success");
  await refresh();
  focusStep($("#status-card"));
});

await init();
