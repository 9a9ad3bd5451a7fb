// The Security page: password confirmation ("sudo"), methods, adding an
// authenticator app or a security key, backup codes, preferred method,
// turning 2FA off, and the recent security events. With an `enrollment`
// session (after an admin reset) only the add-method parts are shown.
import { ApiError, api, describe, whoAmI } from "./api.js";
import { showBackupCodes } from "./backup-codes.js";
import { eventItem } from "./events.js";
import { renderNav } from "./nav.js";
import { $, ask, busy, copy, field, focusStep, formatDateTime, formatTime, formDialog, group, h, methodLabel, say, show } from "./ui.js";

let me = null;
let security = null;
const flash = $("#flash");
const ALL_CARDS = ["status-card", "methods-card", "totp-setup", "key-setup", "preferred-card", "backup-card", "disable-card", "events-card"];

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
  status.textContent =
    Date.now() < sudoUntil
      ? `Password confirmed: you can make changes until ${formatTime(new Date(sudoUntil))} without entering it again.`
      : "You will be asked for your password before changes are made.";
}
setInterval(renderSudo, 15_000);

function askPassword(reason) {
  return formDialog({
    title: "Confirm your password",
    intro: h("p", {}, reason ?? "For your safety, enter your password before changing your security settings. You will not be asked again for 10 minutes."),
    fields: field({ label: "Password", name: "password", type: "password", autocomplete: "current-password" }),
    submit: "Confirm",
    onSubmit: async (form) => {
      await api("POST", "/api/security/reauth", { password: form.password.value });
      setSudo(Date.now() + SUDO_MS);
      return true;
    },
    errorText: (err) => describe(err, { invalid_credentials: "That password is wrong. Try again." }),
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
    if (!(await askPassword("Your password confirmation has expired. Enter your password again to continue."))) throw new Cancelled();
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

async function init(message) {
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
    show($("#methods"), false);
    show($("#methods-empty"), false);
    $("#methods-title").textContent = "Set up a new method";
    focusStep($("#enroll-banner").parentElement.querySelector("h1"));
    return;
  }
  show($("#enroll-banner"), false);
  $("#methods-title").textContent = "Your sign-in methods";
  await refresh();
  show($("#loading"), false);
  if (message) say(flash, message, "success");
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
}

function render() {
  const on = security.enabled;
  for (const id of ["status-card", "methods-card", "events-card"]) show($(`#${id}`), true);
  for (const id of ["preferred-card", "backup-card", "disable-card"]) show($(`#${id}`), on);
  const status = $("#tfa-status");
  status.className = `status ${on ? "on" : "off"}`;
  status.replaceChildren(
    h("strong", {}, on ? "On. " : "Off. "),
    on
      ? "After your password, you are asked for a code from your app, your security key or a backup code."
      : "Your password alone logs you in. Add an authenticator app or a security key below to turn it on.",
  );
  renderSudo();
  renderMethods();
  renderPreferred();
  const left = security.backupCodes.remaining;
  $("#backup-remaining").textContent = `${left} of 10 backup codes left.${left <= 3 ? " Generate new ones soon." : ""}`;
  $("#backup-remaining").className = left <= 3 ? "warning" : "";
  $("#events").replaceChildren(...security.events.map(eventItem));
  if (security.events.length === 0) $("#events").append(h("li", { class: "muted" }, "Nothing yet."));
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
          h("strong", {}, m.name),
          " ",
          h("span", { class: "badge" }, methodLabel(m.type)),
          h("br"),
          h(
            "span",
            { class: "muted small" },
            `Added ${formatDateTime(m.createdAt)} · ${m.lastUsedAt ? `Last used ${formatDateTime(m.lastUsedAt)}` : "Never used"}`,
          ),
        ),
        h(
          "div",
          { class: "row-actions" },
          h("button", { type: "button", class: "secondary", "aria-label": `Rename ${m.name}`, onclick: (e) => rename(m, e.currentTarget) }, "Rename"),
          h("button", { type: "button", class: "danger-outline", "aria-label": `Remove ${m.name}`, onclick: (e) => remove(m, e.currentTarget) }, "Remove"),
        ),
      ),
    ),
  );
}

function renderPreferred() {
  const types = [...new Set(security.methods.map((m) => m.type))];
  const select = $("#preferred-select");
  select.replaceChildren(...types.map((t) => h("option", { value: t, selected: t === security.preferred }, methodLabel(t))));
  // A choice of one is no choice: say what happens instead of showing a one-item menu.
  const single = types.length < 2;
  for (const el of $("#preferred-form").children) if (!el.classList.contains("notice")) show(el, !single);
  $("#preferred-single").textContent = single
    ? `You are asked for your ${methodLabel(types[0] ?? "totp").toLowerCase()} first. Add ${types[0] === "webauthn" ? "an authenticator app" : "a security key"} to choose between them. A backup code can always be used instead.`
    : "";
  show($("#preferred-single"), single);
}

// ---- methods: rename and remove --------------------------------------------

async function rename(method, button) {
  const box = $("#methods-error");
  say(box, "");
  try {
    await withSudo(async () => {
      const renamed = await formDialog({
        title: "Rename method",
        fields: field({ label: "New name", name: "name", value: method.name, maxlength: 64 }),
        submit: "Save",
        onSubmit: (form) => api("PATCH", `/api/security/methods/${encodeURIComponent(method.id)}`, { name: form.name.value }),
        errorText: (err) => describe(err),
      });
      if (renamed) say(flash, `Renamed to “${renamed.method.name}”.`, "success");
    });
    await refresh();
  } catch (err) {
    report(box, err);
  }
  button.isConnected && button.focus();
}

async function remove(method, button) {
  const box = $("#methods-error");
  say(box, "");
  const sure = await ask({
    title: `Remove “${method.name}”?`,
    body: [
      h("p", {}, `You will no longer be able to log in with this ${methodLabel(method.type).toLowerCase()}.`),
      h("p", {}, "For safety, your other sessions (other browsers and devices) will be logged out."),
    ],
    confirm: "Remove",
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await withSudo(() => api("DELETE", `/api/security/methods/${encodeURIComponent(method.id)}`));
      say(flash, `Removed “${method.name}”.`, "success");
      await refresh();
      focusStep($("#methods-card"));
    } catch (err) {
      report(box, err, {
        last_method:
          "This is your only two-factor method, so it cannot be removed: you would be left with only backup codes. Add another method first, or turn off two-factor authentication below.",
      });
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
  $("#totp-name").value = count ? `Authenticator app ${count + 1}` : "Authenticator app";
  show($("#totp-name-form"), true);
  show($("#totp-scan"), false);
  show($("#totp-setup"), true);
  focusStep($("#totp-setup"));
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
      const result = await withSudo(() => api("POST", `/api/security/totp/${encodeURIComponent(enrollmentId)}/confirm`, { code: form.code.value.trim() }));
      closeSetups();
      await added(result, addedMessage("totp", result.method?.name ?? name));
    } catch (err) {
      report($("#totp-error"), err, {
        invalid_code: "That code did not match. Enter the code the app shows now; if it keeps failing, check that your phone’s clock is set automatically.",
        not_found: "This setup took longer than 10 minutes and expired. Press Cancel and start again.",
      });
      form.code.select();
    }
  });
});

// ---- adding a security key -------------------------------------------------

class KeyError extends Error {}

if (window.PublicKeyCredential === undefined) {
  $("#add-key").disabled = true;
  $("#add-key").title = "This browser does not support security keys";
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
          if (err?.name === "InvalidStateError" || err?.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED")
            throw new KeyError("This key is already registered to your account.");
          if (err?.name === "NotAllowedError" || err?.code === "ERROR_CEREMONY_ABORTED")
            throw new KeyError("The key was not registered: the request was cancelled or timed out. Press Register key to try again.");
          throw new KeyError("This browser could not register the key. Try another browser or add an authenticator app instead.");
        }
        return api("POST", "/api/security/webauthn", { name, response });
      });
      closeSetups();
      await added(result, addedMessage("webauthn", result.method?.name ?? name));
    } catch (err) {
      if (err instanceof KeyError) say($("#key-error"), err.message);
      else
        report($("#key-error"), err, {
          invalid_code: "The key’s answer could not be verified, or the request expired. Press Register key to try again.",
          credential_exists: "This security key is already registered.",
        });
    }
  });
});

function addedMessage(type, name) {
  const kind = methodLabel(type);
  return name && name !== kind ? `${kind} “${name}” added.` : `${kind} added.`;
}

/** After a confirmed method: backup codes when 2FA just turned on, else back to the list. */
async function added(result, message) {
  const wasEnrollment = me.stage === "enrollment";
  if (wasEnrollment) me = { ...me, stage: "authenticated" };
  if (result.backupCodes) {
    for (const id of ALL_CARDS) show($(`#${id}`), false);
    show($("#enroll-banner"), false);
    say(flash, `${message} Two-factor authentication is on.`, "success");
    showBackupCodes(result.backupCodes, me.user.email, () =>
      init(wasEnrollment ? "You are logged in again. Your new method is set up and your backup codes are saved." : undefined),
    );
    return;
  }
  say(flash, message, "success");
  await refresh();
  focusStep($("#methods-card"));
}

// ---- backup codes, preferred method, disable -------------------------------

$("#codes-regenerate").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const box = $("#backup-error");
  say(box, "");
  const sure = await ask({
    title: "Generate new backup codes?",
    body: [
      h("p", { class: "warning" }, h("strong", {}, "All your current backup codes stop working immediately,"), " including any you printed or saved."),
      h("p", {}, "You will see ten new codes once. Save them before leaving the page."),
    ],
    confirm: "Generate new codes",
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      const { codes } = await withSudo(() => api("POST", "/api/security/backup-codes"));
      for (const id of ALL_CARDS) show($(`#${id}`), false);
      say(flash, "New backup codes generated. The old codes no longer work.", "success");
      showBackupCodes(codes, me.user.email, () => init());
    } catch (err) {
      report(box, err);
    }
  });
});

$("#preferred-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".notice", form);
  say(box, "");
  $("#preferred-status").textContent = "";
  await busy($("button[type=submit]", form), async () => {
    try {
      const { preferred } = await api("PUT", "/api/security/preferred", { method: form.method.value });
      security.preferred = preferred;
      $("#preferred-status").textContent = `Saved: you will be asked for your ${methodLabel(preferred).toLowerCase()} first.`;
    } catch (err) {
      report(box, err);
    }
  });
});

$("#disable-open").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const done = await formDialog({
    title: "Disable two-factor authentication?",
    intro: [
      h(
        "ul",
        {},
        h("li", {}, "All your methods (authenticator apps and security keys) and all backup codes are removed."),
        h("li", {}, "Your password alone will log you in, which makes your account easier to take over."),
        h("li", {}, "Your other sessions are logged out."),
      ),
    ],
    fields: field({ label: "Current password", name: "password", type: "password", autocomplete: "current-password" }),
    submit: "Disable",
    danger: true,
    onSubmit: (form) => api("POST", "/api/security/disable", { password: form.password.value }),
    errorText: (err) => describe(err, { invalid_credentials: "That password is wrong. Try again." }),
  });
  if (!done) return button.focus();
  setSudo(0);
  say(flash, "Two-factor authentication is off. Your methods and backup codes were removed.", "success");
  await refresh();
  focusStep($("#status-card"));
});

await init();
