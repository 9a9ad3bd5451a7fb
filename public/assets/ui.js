// Small DOM helpers shared by the pages. Everything is built with
// createElement/textContent: no HTML strings from data, nothing inline (CSP).

/** h("p", { class: "hint" }, "text", child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
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
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Working…";
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

/** Shows a message in an alert box (role=alert so it is announced), or clears it. */
export function say(box, message, kind = "error") {
  box.textContent = message ?? "";
  box.className = `notice ${kind}`;
  box.hidden = !message;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });

/** A local, readable time; with an ISO string in `datetime` for machines. */
export function time(iso, { short = false } = {}) {
  if (!iso) return h("span", {}, "Never");
  const d = new Date(iso);
  return h("time", { datetime: d.toISOString(), title: d.toString() }, short ? timeOnly.format(d) : dateTime.format(d));
}

export function formatDateTime(iso) {
  return dateTime.format(new Date(iso));
}

export function formatTime(date) {
  return timeOnly.format(date);
}

/**
 * Copies text and says so on the button for two seconds. Falls back to a
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
  button.textContent = ok ? "Copied" : "Copy failed";
  if (status) status.textContent = ok ? "Copied to the clipboard." : "Could not copy. Select the text and copy it by hand.";
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

/**
 * A modal <dialog> that resolves with the value of the pressed button
 * ("cancel" on Escape). `build(body)` fills the content.
 */
export function ask({ title, body, confirm = "Confirm", danger = false, cancel = "Cancel" }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "modal", "aria-labelledby": "ask-title" });
    const form = h("form", { method: "dialog" });
    const content = h("div", { class: "modal-body" });
    if (typeof body === "string") content.append(h("p", {}, body));
    else if (body) content.append(...[body].flat());
    form.append(
      h("h2", { id: "ask-title" }, title),
      content,
      h(
        "div",
        { class: "actions" },
        h("button", { value: "cancel", class: "secondary", type: "submit" }, cancel),
        h("button", { value: "confirm", class: danger ? "danger" : "primary", type: "submit" }, confirm),
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

/** Groups a string for reading: "ABCDEFGH" -> "ABCD EFGH". */
export function group(text, size = 4) {
  return text.match(new RegExp(`.{1,${size}}`, "g"))?.join(" ") ?? text;
}

export function methodLabel(type) {
  return { totp: "Authenticator app", webauthn: "Security key", backup_code: "Backup code", recovery_code: "Recovery code" }[type] ?? type;
}

/**
 * A modal <dialog> holding a form. `onSubmit(form)` runs with the submit button
 * busy; if it throws, `errorText(err)` is shown inside the dialog and it stays
 * open. Resolves with what `onSubmit` returned, or null when cancelled.
 */
export function formDialog({ title, intro, fields = [], submit = "Confirm", danger = false, onSubmit, errorText }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
    const dialog = h("dialog", { class: "modal", "aria-labelledby": titleId });
    const error = h("div", { class: "notice error", role: "alert", hidden: true });
    const cancelButton = h("button", { type: "button", class: "secondary" }, "Cancel");
    const submitButton = h("button", { type: "submit", class: danger ? "danger" : "primary" }, submit);
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
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const input = h("input", { id, name, type, autocomplete, required, maxlength, "aria-describedby": hint ? `${id}-hint` : null });
  input.value = value;
  return [h("label", { for: id }, label), input, hint ? h("p", { id: `${id}-hint`, class: "hint" }, hint) : null];
}
