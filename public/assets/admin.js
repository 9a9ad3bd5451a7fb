// The community admin page: members with their 2FA status, invitations, and
// the "Reset member’s 2FA" action: … menu, requirements, Reset, the admin's
// password, then the single-use recovery code to copy.
import { ApiError, api, describe, whoAmI } from "./api.js";
import { formatDateTime, t, tn } from "./i18n.js";
import { renderNav } from "./nav.js";
import { $, ask, busy, copy, data, field, focusStep, formDialog, h, methodLabel, say, show, time, validateInLanguage } from "./ui.js";

let me = null;
let community = null;
const flash = $("#flash");
// What an action did is said in the card it was done in, beside the focus: on a phone the page's
// #flash is a screen or more above the members and the invitations.
const policyStatus = $("#policy-status");
const membersStatus = $("#members-status");
const inviteStatus = $("#invite-status");
/**
 * A member's reset is said right under the member's row, where the … button that opened it has focus again:
 * the card's own region is under its heading, more than a screen above a row far down the list. The region
 * comes with the list the reset redraws (while the recovery code is still on screen), and its words once the
 * dialog closes; a later redraw keeps them, without saying them again, until another member action.
 */
let resetResult = null;
validateInLanguage();

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
  select.replaceChildren(...admined.map((c) => h("option", { value: c.id, selected: c.id === community.id, translate: "no" }, c.name)));
  show($("#picker"), admined.length > 1);
  select.addEventListener("change", () => {
    community = admined.find((c) => c.id === select.value);
    history.replaceState(null, "", `/admin?community=${encodeURIComponent(community.id)}`);
    for (const region of [flash, policyStatus, membersStatus, inviteStatus]) say(region, "");
    resetResult = null;
    load();
  });
  await load();
}

async function load() {
  $("#page-title").replaceChildren(...tn("admin.titleNamed", { community: data("span", community.name) }));
  document.title = t("admin.pageTitleNamed", { community: community.name });
  show($("#members-card"), true);
  show($("#invite-card"), true);
  // Said before they try: resetting a member and requiring 2FA both need the admin's own.
  show($("#admin-no-2fa"), !me.twoFactor.enabled);
  await Promise.all([loadPolicy(), loadMembers(), loadInvitations()]);
}

// ---- the community's 2FA policy ----------------------------------------------

const policyForm = $("#policy-form");

async function loadPolicy() {
  const box = $("#policy-error");
  try {
    const { community: c } = await api("GET", base());
    say(box, "");
    fillPolicy(c.policy);
    show($("#policy-card"), true);
  } catch (err) {
    show($("#policy-card"), true);
    say(box, describe(err));
  }
}

function fillPolicy(policy) {
  policyForm.requireTwoFactor.checked = policy.requireTwoFactor;
  policyForm.graceDays.value = String(policy.graceDays);
  policyForm.allowTrustedBrowsers.checked = policy.allowTrustedBrowsers;
  $("#policy-since").textContent = policy.enforcedFrom ? t("policy.since", { date: formatDateTime(policy.enforcedFrom) }) : t("policy.notRequired");
  explainGrace();
}

/** The grace in words, as the admin types it. */
function explainGrace() {
  const days = Number(policyForm.graceDays.value);
  const valid = Number.isInteger(days) && days >= 0 && days <= 30;
  // Days mean nothing while 2FA is not required: the field goes (the sentence
  // below says members may use their password alone), and the days it holds
  // are still sent, so the API sees what it always did.
  policyForm.graceDays.disabled = !policyForm.requireTwoFactor.checked;
  show($("#policy-grace-field"), policyForm.requireTwoFactor.checked);
  $("#policy-grace-words").textContent = !policyForm.requireTwoFactor.checked
    ? t("policy.graceOff")
    : !valid
      ? t("policy.graceInvalid")
      : days === 0
        ? t("policy.graceNone")
        : t("policy.graceDays", { count: days });
}
policyForm.graceDays.addEventListener("input", explainGrace);
policyForm.requireTwoFactor.addEventListener("change", explainGrace);

/** A password prompt when the server asks for a fresh one; false when cancelled. */
function confirmPassword() {
  return formDialog({
    title: t("sudo.title"),
    intro: h("p", {}, t("policy.sudoIntro")),
    fields: field({ label: t("sudo.password"), name: "password", type: "password", autocomplete: "current-password" }),
    submit: t("common.confirm"),
    onSubmit: async (form) => {
      await api("POST", "/api/security/reauth", { password: form.password.value });
      return true;
    },
    errorText: (err) => describe(err, { invalid_credentials: t("reset.wrongPassword") }),
  });
}

policyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const box = $("#policy-error");
  const submit = $("button[type=submit]", policyForm);
  say(box, "");
  say(policyStatus, "");
  const body = {
    requireTwoFactor: policyForm.requireTwoFactor.checked,
    graceDays: Number(policyForm.graceDays.value),
    allowTrustedBrowsers: policyForm.allowTrustedBrowsers.checked,
  };
  const save = () => api("PUT", `${base()}/policy`, body);
  await busy(submit, async () => {
    try {
      let answer;
      try {
        answer = await save();
      } catch (err) {
        if (!(err instanceof ApiError && err.code === "reauth_required")) throw err;
        if (!(await confirmPassword())) return submit.focus();
        answer = await save();
      }
      fillPolicy(answer.policy);
      say(policyStatus, t("policy.saved"), "success");
      await loadMembers();
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthenticated") return location.assign("/");
      say(box, describe(err, { two_factor_required: t("policy.needOwnTwoFactor") }));
    }
  });
  submit.focus();
});

const base = () => `/api/communities/${encodeURIComponent(community.id)}`;
const role = (r) => t(r === "admin" ? "role.admin" : "role.member");

// ---- members ---------------------------------------------------------------

async function loadMembers() {
  const box = $("#members-error");
  let members;
  try {
    ({ members } = await api("GET", `${base()}/members`));
  } catch (err) {
    return say(box, describe(err, { forbidden: t("admin.onlyAdmins"), not_found: t("admin.communityGone") }));
  }
  say(box, "");
  $("#members tbody").replaceChildren(...members.flatMap((m) => (m.email === resetResult?.email ? [memberRow(m), resultRow(resetResult)] : [memberRow(m)])));
}

function resultRow(result) {
  const region = h("div", { role: "status", class: "member-result" });
  if (result.text) say(region, result.text, "success");
  result.region = region;
  return h("tr", { class: "member-result-row" }, h("td", { colspan: "7" }, region));
}

/**
 * A column's name as the label before a value when the table is a list of cards
 * (phones, style.css): the colon after it is the language's ("Rôle : Admin" in
 * French, with its no-break space), so it comes from the catalogue, not from the stylesheet.
 */
const cardLabel = (key) => ({ "data-label": t(key), "data-colon": t("admin.cardColon") });

function memberRow(m) {
  const self = m.id === me.user.id;
  const twoFactor = m.twoFactor.enabled
    ? [h("span", { class: "badge on" }, t("admin.on")), " ", m.twoFactor.methods.flatMap((type, i) => (i ? [", ", methodLabel(type)] : [methodLabel(type)]))]
    : m.recoveryCodeExpiresAt
      ? [h("span", { class: "badge off" }, t("admin.off")), " ", h("span", { class: "small" }, t("admin.waitingForRecovery"))]
      : [h("span", { class: "badge off" }, t("admin.off"))];
  const recovery = m.recoveryCodeExpiresAt ? t("admin.outstanding", { date: formatDateTime(m.recoveryCodeExpiresAt) }) : t("admin.none");
  const standing =
    m.policy === "grace"
      ? [
          h("span", { class: "badge" }, t("policy.standingGrace")),
          " ",
          h("span", { class: "small" }, t("policy.until", { date: formatDateTime(m.requiredBy) })),
        ]
      : m.policy === "overdue"
        ? [
            h("span", { class: "badge off" }, t("policy.standingOverdue")),
            " ",
            h("span", { class: "small" }, t("policy.overdueSince", { date: formatDateTime(m.requiredBy) })),
          ]
        : [t("policy.standingOk")];
  return h(
    "tr",
    { "data-member": m.email },
    h("td", { class: "name-cell" }, data("span", m.name), self ? h("span", { class: "muted" }, " ", t("admin.you")) : null),
    h("td", { ...cardLabel("admin.colEmail"), class: "email-cell", translate: "no" }, m.email),
    h("td", { ...cardLabel("admin.colRole") }, role(m.role)),
    h("td", { ...cardLabel("admin.colTwoFactor") }, ...twoFactor),
    h("td", { ...cardLabel("admin.colRecovery") }, recovery),
    h("td", { ...cardLabel("policy.colStanding"), "data-standing": m.policy }, ...standing),
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
  const label = t("admin.actionsFor", { name: member.name });
  const button = h(
    "button",
    { type: "button", class: "secondary menu-button", "aria-label": label, "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": id },
    "…",
  );
  const item = h("button", { type: "button", role: "menuitem", "data-action": "reset" }, t("admin.resetItem"));
  const remove = h("button", { type: "button", role: "menuitem", "data-action": "remove" }, t("removal.item"));
  const list = h("div", { id, role: "menu", class: "menu-list", "aria-label": label, hidden: true }, item, remove);
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
  remove.addEventListener("click", () => {
    closeMenu();
    removeMember(member, button);
  });
  // Arrow keys move between the items, as in any menu.
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    (document.activeElement === item ? remove : item).focus();
  });
  return root;
}

// ---- removing a member -------------------------------------------------------

async function removeMember(member, opener) {
  const name = member.name;
  const sure = await ask({
    title: t("removal.title", { name }),
    body: [
      h("p", {}, t("removal.what", { name })),
      h("ul", {}, h("li", {}, t("removal.list")), h("li", {}, t("removal.account")), h("li", {}, t("removal.email")), h("li", {}, t("removal.back"))),
    ],
    confirm: t("removal.confirm"),
    danger: true,
  });
  if (!sure) return opener.focus();
  say(membersStatus, "");
  resetResult = null;
  try {
    await api("DELETE", `${base()}/members/${encodeURIComponent(member.id)}`);
    say(membersStatus, t("removal.done", { name }), "success");
    await loadMembers();
    focusStep($("#members-card"));
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthenticated") return location.assign("/");
    say($("#members-error"), describe(err, { not_found: t("reset.gone", { name }) }));
    (opener.isConnected ? opener : $("#members-card h2")).focus();
  }
}

// ---- the reset -------------------------------------------------------------

function resetDialog(member, opener) {
  const name = member.name;
  const dialog = h("dialog", { class: "modal", "aria-labelledby": "reset-title" });
  const title = h("h2", { id: "reset-title", tabindex: "-1" }, t("reset.title", { name }));
  const body = h("div");
  dialog.append(title, body);
  document.body.append(dialog);
  // The members list reloaded after a reset (its standing changed); focus waits for it, or the redraw would drop it.
  let reloading = Promise.resolve();
  dialog.addEventListener("close", async () => {
    dialog.remove();
    await reloading;
    // Back where the person was: the member's … button, redrawn if the list was reloaded meanwhile.
    const row = [...document.querySelectorAll("#members tbody tr")].find((tr) => tr.dataset.member === member.email);
    const target = opener.isConnected ? opener : row?.querySelector(".menu-button");
    if (!target) return focusStep($("#members-card"));
    target.focus();
    // The result, under the member's row (the region came with the redraw): said now, beside the focus.
    if (resetResult?.email === member.email && resetResult.region) {
      resetResult.text = t("reset.flash", { name });
      say(resetResult.region, resetResult.text, "success");
      resetResult.region.scrollIntoView({ block: "nearest" });
    }
  });
  const cancel = () => h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("common.cancel"));

  function requirements() {
    const reset = h("button", { type: "button", class: "danger" }, t("reset.continue"));
    reset.addEventListener("click", password);
    body.replaceChildren(
      h("p", {}, t("reset.onlyWhen", { name })),
      h(
        "ul",
        {},
        h("li", {}, t("reset.removes", { name })),
        h("li", {}, t("reset.sessions")),
        h("li", {}, t("reset.email")),
        h("li", {}, ...tn("reset.code", { validity: h("strong", {}, t("reset.validity")) })),
        member.recoveryCodeExpiresAt ? h("li", {}, t("reset.replaces")) : null,
      ),
      h("div", { class: "actions" }, cancel(), reset),
    );
  }

  function password() {
    const error = h("div", { role: "alert" });
    const input = h("input", { id: "reset-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const submit = h("button", { type: "submit", class: "danger" }, t("reset.submit"));
    const form = h(
      "form",
      {},
      h("p", {}, t("reset.passwordIntro")),
      h("label", { for: "reset-password" }, t("reset.password")),
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
          say(error, describe(err, { invalid_credentials: t("reset.wrongPassword"), not_found: t("reset.gone", { name }) }));
          input.select();
        }
      });
    });
    body.replaceChildren(form);
    input.focus();
  }

  function code({ recoveryCode, expiresAt }) {
    title.textContent = t("reset.codeTitle", { name });
    const status = h("p", { class: "copy-status", "aria-live": "polite" });
    const copyButton = h("button", { type: "button", class: "primary" }, t("common.copy"));
    copyButton.addEventListener("click", () => copy(recoveryCode, copyButton, status));
    const done = h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("reset.done"));
    body.replaceChildren(
      h("p", {}, t("reset.doneText", { name })),
      h("label", { for: "recovery-code-output", class: "code-label" }, t("reset.codeLabel")),
      h("output", { id: "recovery-code-output", class: "recovery-code", translate: "no" }, recoveryCode),
      h("div", { class: "actions-row" }, copyButton),
      status,
      h("p", {}, ...tn("reset.validUntil", { date: h("strong", {}, time(expiresAt)) })),
      h("p", { class: "warning" }, t("reset.sendSafely", { name })),
      h("div", { class: "actions" }, done),
    );
    title.focus();
    say(membersStatus, "");
    resetResult = { email: member.email, text: null, region: null };
    reloading = loadMembers();
  }

  requirements();
  dialog.showModal();
  // The safe choice has focus (showModal alone would pick the title, which can hold focus for later steps).
  body.querySelector("button").focus();
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
            data("strong", i.email),
            " ",
            h("span", { class: "badge" }, role(i.role)),
            h("br"),
            h("span", { class: "muted small" }, t("common.expires", { date: formatDateTime(i.expiresAt) })),
          ),
        ),
      ),
    );
    if (invitations.length === 0) list.append(h("li", { class: "muted" }, t("invite.none")));
  } catch (err) {
    list.replaceChildren(h("li", { class: "muted" }, t("invite.loadFailed", { reason: describe(err) })));
  }
}

$("#invite-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".messages", form);
  say(box, "");
  say(inviteStatus, "");
  await busy($("button[type=submit]", form), async () => {
    try {
      const { invitation, emailed } = await api("POST", `${base()}/invitations`, { email: form.email.value, role: form.role.value });
      form.email.value = "";
      // Not emailed: the address had its share of invitation emails lately; the invitation stands all the same.
      if (emailed === false) say(inviteStatus, t("invite.notEmailed", { email: invitation.email }), "info");
      else say(inviteStatus, t("invite.sent", { email: invitation.email }), "success");
      await loadInvitations();
      form.email.focus();
    } catch (err) {
      say(box, describe(err));
    }
  });
});

await init();
