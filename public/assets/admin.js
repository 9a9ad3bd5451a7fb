// The community admin page: members with their 2FA status, invitations, and
// the seed's "Reset user 2FA": … menu, requirements, Reset, the admin's
// password, then the single-use recovery code to copy.
import { ApiError, api, describe, whoAmI } from "./api.js";
import { renderNav } from "./nav.js";
import { $, busy, copy, formatDateTime, h, methodLabel, say, show } from "./ui.js";

let me = null;
let community = null;
const flash = $("#flash");

async function init() {
  const who = await whoAmI();
  if (who.error) {
    show($("#loading"), false);
    return say($("#page-error"), describe(who.error));
  }
  if (who.me?.stage !== "authenticated") {
    location.replace(who.me?.stage === "enrollment" ? "/security" : "/");
    return;
  }
  me = who.me;
  renderNav(me);
  show($("#loading"), false);
  const admined = me.communities.filter((c) => c.role === "admin");
  if (admined.length === 0) return show($("#not-admin"), true);
  const wanted = new URLSearchParams(location.search).get("community");
  community = admined.find((c) => c.id === wanted) ?? admined[0];
  const select = $("#community-select");
  select.replaceChildren(...admined.map((c) => h("option", { value: c.id, selected: c.id === community.id }, c.name)));
  show($("#picker"), admined.length > 1);
  select.addEventListener("change", () => {
    community = admined.find((c) => c.id === select.value);
    history.replaceState(null, "", `/admin?community=${encodeURIComponent(community.id)}`);
    say(flash, "");
    load();
  });
  await load();
}

async function load() {
  $("#page-title").textContent = `${community.name}: community admin`;
  document.title = `${community.name} · Community admin · Edge 2FA`;
  show($("#members-card"), true);
  show($("#invite-card"), true);
  await Promise.all([loadMembers(), loadInvitations()]);
}

const base = () => `/api/communities/${encodeURIComponent(community.id)}`;

// ---- members ---------------------------------------------------------------

async function loadMembers() {
  const box = $("#members-error");
  let members;
  try {
    ({ members } = await api("GET", `${base()}/members`));
  } catch (err) {
    return say(box, describe(err, { forbidden: "Only admins of this community can see its members.", not_found: "This community no longer exists." }));
  }
  say(box, "");
  $("#members tbody").replaceChildren(...members.map(memberRow));
}

function memberRow(m) {
  const self = m.id === me.user.id;
  const twoFactor = m.twoFactor.enabled
    ? [h("span", { class: "badge on" }, "On"), " ", m.twoFactor.methods.map(methodLabel).join(", ")]
    : m.recoveryCodeExpiresAt
      ? [h("span", { class: "badge off" }, "Off"), " ", h("span", { class: "small" }, "Reset: waiting for them to log in with the recovery code")]
      : [h("span", { class: "badge off" }, "Off")];
  const recovery = m.recoveryCodeExpiresAt ? `Outstanding, expires ${formatDateTime(m.recoveryCodeExpiresAt)}` : "None";
  return h(
    "tr",
    { "data-member": m.email },
    h("td", { class: "name-cell" }, m.name, self ? h("span", { class: "muted" }, " (you)") : null),
    h("td", { "data-label": "Email", class: "email-cell" }, m.email),
    h("td", { "data-label": "Role" }, m.role === "admin" ? "Admin" : "Member"),
    h("td", { "data-label": "Two-factor" }, ...twoFactor),
    h("td", { "data-label": "Recovery code" }, recovery),
    h("td", { class: "menu-cell" }, self ? null : actionsMenu(m)),
  );
}

let openMenu = null;

function closeMenu({ focus = false } = {}) {
  if (!openMenu) return;
  const { button, list } = openMenu;
  list.hidden = true;
  button.setAttribute("aria-expanded", "false");
  openMenu = null;
  if (focus) button.focus();
}

document.addEventListener("click", (event) => {
  if (openMenu && !openMenu.root.contains(event.target)) closeMenu();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && openMenu) closeMenu({ focus: true });
});

function actionsMenu(member) {
  const id = `menu-${member.id}`;
  const button = h(
    "button",
    {
      type: "button",
      class: "secondary menu-button",
      "aria-label": `Actions for ${member.name}`,
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": id,
    },
    "…",
  );
  const item = h("button", { type: "button", role: "menuitem" }, "Reset user 2FA");
  const list = h("div", { id, role: "menu", class: "menu-list", "aria-label": `Actions for ${member.name}`, hidden: true }, item);
  const root = h("div", { class: "menu" }, button, list);
  // Tabbing out of the menu closes it, as clicking elsewhere does.
  root.addEventListener("focusout", (event) => {
    if (openMenu?.root === root && !root.contains(event.relatedTarget)) closeMenu();
  });
  button.addEventListener("click", () => {
    const wasOpen = openMenu?.root === root;
    closeMenu();
    if (wasOpen) return;
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    openMenu = { root, button, list };
    item.focus();
  });
  item.addEventListener("click", () => {
    closeMenu();
    resetDialog(member, button);
  });
  return root;
}

// ---- the reset -------------------------------------------------------------

function resetDialog(member, opener) {
  const dialog = h("dialog", { class: "modal", "aria-labelledby": "reset-title" });
  const title = h("h2", { id: "reset-title", tabindex: "-1" }, `Reset two-factor authentication for ${member.name}?`);
  const body = h("div");
  dialog.append(title, body);
  document.body.append(dialog);
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener.focus();
  });
  const cancel = () => h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel");

  function requirements() {
    const reset = h("button", { type: "button", class: "danger" }, "Reset");
    reset.addEventListener("click", password);
    body.replaceChildren(
      h("p", {}, `Do this only when ${member.name} asked for it and you are sure it is them (for example, you called them back on a number you know).`),
      h(
        "ul",
        {},
        h("li", {}, `All of ${member.name}’s authenticator apps, security keys and backup codes are removed.`),
        h("li", {}, "All of their sessions end: they are logged out everywhere."),
        h("li", {}, "They get an email saying that you reset their two-factor authentication."),
        h(
          "li",
          {},
          "You get a recovery code to send them. It is valid ",
          h("strong", {}, "once, for 24 hours"),
          ". With their password and this code they log in and must set up a new method right away.",
        ),
        member.recoveryCodeExpiresAt ? h("li", {}, "The recovery code issued earlier stops working.") : null,
      ),
      h("div", { class: "actions" }, cancel(), reset),
    );
  }

  function password() {
    const error = h("div", { class: "notice error", role: "alert", hidden: true });
    const input = h("input", { id: "reset-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const submit = h("button", { type: "submit", class: "danger" }, "Reset 2FA");
    const form = h(
      "form",
      {},
      h("p", {}, "Enter your own password to confirm the reset."),
      h("label", { for: "reset-password" }, "Your password"),
      input,
      error,
      h("div", { class: "actions" }, cancel(), submit),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      say(error, "");
      await busy(submit, async () => {
        try {
          const answer = await api("POST", `${base()}/members/${encodeURIComponent(member.id)}/reset-2fa`, { password: input.value });
          code(answer);
        } catch (err) {
          if (err instanceof ApiError && err.code === "unauthenticated") return location.assign("/");
          say(
            error,
            describe(err, {
              invalid_credentials: "That password is wrong. Enter your own password, not the member’s.",
              not_found: `${member.name} is no longer a member of this community.`,
            }),
          );
          input.select();
        }
      });
    });
    body.replaceChildren(form);
    input.focus();
  }

  function code({ recoveryCode, expiresAt }) {
    title.textContent = `Recovery code for ${member.name}`;
    const status = h("p", { class: "copy-status", "aria-live": "polite" });
    const copyButton = h("button", { type: "button", class: "primary" }, "Copy");
    copyButton.addEventListener("click", () => copy(recoveryCode, copyButton, status));
    const done = h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Done");
    body.replaceChildren(
      h("p", {}, `${member.name}’s two-factor authentication was reset and they were logged out everywhere.`),
      h("p", { class: "recovery-code", "aria-label": "Recovery code" }, recoveryCode),
      h("div", { class: "actions-row" }, copyButton),
      status,
      h("p", {}, "Valid once, until ", h("strong", {}, formatDateTime(expiresAt)), " (24 hours)."),
      h(
        "p",
        { class: "warning" },
        `Send it to ${member.name} through a secure channel you trust, such as an encrypted messenger or in person. We do not email it, and it is not shown again.`,
      ),
      h("div", { class: "actions" }, done),
    );
    title.focus();
    say(flash, `${member.name}’s two-factor authentication was reset. A recovery code is outstanding.`, "success");
    loadMembers();
  }

  requirements();
  // showModal focuses the first button, Cancel: the safe choice.
  dialog.showModal();
}

// ---- invitations -----------------------------------------------------------

async function loadInvitations() {
  const list = $("#invitations");
  try {
    const { invitations } = await api("GET", `${base()}/invitations`);
    list.replaceChildren(
      ...invitations.map((i) =>
        h(
          "li",
          {},
          h(
            "div",
            { class: "row-main" },
            h("strong", {}, i.email),
            " ",
            h("span", { class: "badge" }, i.role === "admin" ? "Admin" : "Member"),
            h("br"),
            h("span", { class: "muted small" }, `Expires ${formatDateTime(i.expiresAt)}`),
          ),
        ),
      ),
    );
    if (invitations.length === 0) list.append(h("li", { class: "muted" }, "No pending invitations."));
  } catch (err) {
    list.replaceChildren(h("li", { class: "muted" }, `Could not load invitations. ${describe(err)}`));
  }
}

$("#invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".notice", form);
  say(box, "");
  await busy($("button[type=submit]", form), async () => {
    try {
      const { invitation } = await api("POST", `${base()}/invitations`, { email: form.email.value, role: form.role.value });
      form.email.value = "";
      say(flash, `Invitation sent to ${invitation.email}. They join when they log in with that email and accept it (within 7 days).`, "success");
      await loadInvitations();
      form.email.focus();
    } catch (err) {
      say(box, describe(err));
    }
  });
});

await init();
