// Small DOM helpers shared by the pages. Everything is built with
// createElement/textContent: no HTML strings from data, nothing inline (CSP).
// Every word comes from the catalogue (t); data a person typed or the API
// returned is marked translate="no" where it stands alone.
import { formatDateTime, t } from "./i18n.js";

/** h("p", { class: "hint" }, "text", child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Data shown as is (a name, an email, a code): never translated, by us or by a browser's translator. */
export const data = (tag, value, attrs = {}) => h(tag, { ...attrs, translate: "no" }, value);

export const $ = (selector, root = document) => root.querySelector(selector);

export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Moves focus to the new step so keyboard and screen-reader users follow along. */
export function focusStep(el) {
  const target =
    el.querySelector("[autofocus]") ??
    [...el.querySelectorAll("input:not([type=hidden]):not([disabled]), select, textarea")].find((i) => i.offsetParent !== null) ??
    el.querySelector("h1, h2, h3") ??
    el;
  if (/^H[1-6]$/.test(target.tagName) && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}

/**
 * Runs `work` with the button disabled and saying "Working…"; restores it after.
 * Returns what `work` returns.
 */
export async function busy(button, work) {
  const release = hold(button);
  try {
    return await work();
  } finally {
    release();
  }
}

/** Disables the button, saying "Working…"; returns what gives it back. */
export function hold(button) {
  const label = [...button.childNodes];
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = t("common.working");
  return () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.replaceChildren(...label);
  };
}

/**
 * Shows a message in a live region, or clears it. The region itself (role=alert
 * or status in the markup) stays in the page, empty, so screen readers announce
 * what appears in it; only the box inside comes and goes.
 */
export function say(region, message, kind = "error") {
  region.replaceChildren(...(message ? [h("p", { class: `notice ${kind}` }, message)] : []));
}

/** A local, readable time; with an ISO string in `datetime` for machines. */
export function time(iso) {
  if (!iso) return h("span", {}, t("common.never"));
  const d = new Date(iso);
  return h("time", { datetime: d.toISOString(), translate: "no" }, formatDateTime(d));
}

/**
 * Copies text and says so on the button for a moment. Falls back to a
 * selection + execCommand when the async clipboard is refused.
 */
export async function copy(text, button, status) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    const area = h("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = t(ok ? "common.copied" : "common.copyFailed");
  if (status) status.textContent = t(ok ? "common.copiedStatus" : "common.copyFailedStatus");
  clearTimeout(Number(button.dataset.timer));
  button.dataset.timer = String(
    setTimeout(() => {
      button.textContent = label;
      if (status) status.textContent = "";
    }, 2500),
  );
  return ok;
}

export function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, class: "offscreen" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

let dialogs = 0;

/**
 * A modal <dialog> that resolves true when confirmed, false on Cancel or
 * Escape. `body` is a string or nodes.
 */
export function ask({ title, body, confirm, danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${++dialogs}`;
    const dialog = h("dialog", { class: "modal", "aria-labelledby": titleId });
    const form = h("form", { method: "dialog" });
    const content = h("div", { class: "modal-body" });
    if (typeof body === "string") content.append(h("p", {}, body));
    else if (body) content.append(...[body].flat());
    form.append(
      h("h2", { id: titleId }, title),
      content,
      h(
        "div",
        { class: "actions" },
        h("button", { value: "cancel", class: "secondary", type: "submit" }, t("common.cancel")),
        h("button", { value: "confirm", class: danger ? "danger" : "primary", type: "submit" }, confirm ?? t("common.confirm")),
      ),
    );
    dialog.append(form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      const answer = dialog.returnValue === "confirm";
      dialog.remove();
      resolve(answer);
    });
    dialog.showModal();
    // The safe choice has focus: Enter does not destroy anything by accident.
    dialog.querySelector("button[value=cancel]").focus();
  });
}

/**
 * A six-digit code as typed: apps show it as "123 456" and people copy that, so
 * every space goes before it is sent (the API trims only the ends).
 */
export const typedCode = (value) => value.replace(/\s+/g, "");

/**
 * Few backup codes left: the Security page warns, and the home page links
 * there after a backup code was spent (docs/pages.md).
 */
export const fewBackupCodes = (left) => left <= 3;

/** Groups a string for reading: "ABCDEFGH" -> "ABCD EFGH". */
export function group(text, size = 4) {
  return text.match(new RegExp(`.{1,${size}}`, "g"))?.join(" ") ?? text;
}

const METHOD_KEYS = { totp: "method.totp", webauthn: "method.webauthn", backup_code: "method.backupCode", recovery_code: "method.recoveryCode" };

/** "Authenticator app", or with `{ lower: true }` the form used inside a sentence. */
export function methodLabel(type, { lower = false } = {}) {
  const key = METHOD_KEYS[type];
  if (!key) return type;
  return t(lower ? `${key}.inSentence` : key);
}

/**
 * Browser validation in the page's language: the bubble a browser shows for a
 * required, too short or malformed field says it with the catalogue's words.
 */
export function validateInLanguage(root = document) {
  root.addEventListener(
    "invalid",
    (event) => {
      const input = event.target;
      const v = input.validity;
      input.setCustomValidity("");
      const message = v.valueMissing
        ? t("validation.required")
        : v.typeMismatch && input.type === "email"
          ? t("validation.email")
          : v.tooShort
            ? t("validation.tooShort", { count: input.minLength })
            : v.tooLong
              ? t("validation.tooLong", { count: input.maxLength })
              : v.patternMismatch
                ? t("validation.pattern")
                : "";
      if (message) input.setCustomValidity(message);
    },
    true,
  );
  root.addEventListener("input", (event) => event.target.setCustomValidity?.(""), true);
}

/**
 * A modal <dialog> holding a form. `onSubmit(form)` runs with the submit button
 * busy; if it throws, `errorText(err)` is shown inside the dialog and it stays
 * open. Resolves with what `onSubmit` returned, or null when cancelled.
 */
export function formDialog({ title, intro, fields = [], submit, danger = false, onSubmit, errorText }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${++dialogs}`;
    const dialog = h("dialog", { class: "modal", "aria-labelledby": titleId });
    const error = h("div", { role: "alert" });
    const cancelButton = h("button", { type: "button", class: "secondary" }, t("common.cancel"));
    const submitButton = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submit ?? t("common.confirm"));
    const form = h(
      "form",
      {},
      h("h2", { id: titleId }, title),
      ...[intro ?? []].flat(),
      ...fields,
      error,
      h("div", { class: "actions" }, cancelButton, submitButton),
    );
    let result = null;
    cancelButton.addEventListener("click", () => dialog.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say(error, "");
      await busy(submitButton, async () => {
        try {
          result = await onSubmit(form);
          dialog.close();
        } catch (err) {
          say(error, errorText ? errorText(err) : String(err));
          form.querySelector("input")?.select();
        }
      });
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    focusStep(form);
  });
}

/** A labelled input for formDialog. */
export function field({ label, name, type = "text", value = "", autocomplete = "off", hint, required = true, maxlength }) {
  const id = `f-${name}-${++dialogs}`;
  const input = h("input", { id, name, type, autocomplete, required, maxlength, "aria-describedby": hint ? `${id}-hint` : null });
  input.value = value;
  return [h("label", { for: id }, label), input, hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null];
}
