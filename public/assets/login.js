// The login page: sign up, log in, the second step, and the account overview.
import { ApiError, api, describe, logOut, takeArrivalNotice, waitText, whoAmI } from "./api.js";
import { formatDateTime, t, tn } from "./i18n.js";
import { renderNav } from "./nav.js";
import { $, ask, busy, data, fewBackupCodes, focusStep, h, methodLabel, say, show, typedCode, validateInLanguage } from "./ui.js";

const sections = ["login", "signup", "verify", "home"];
const flash = $("#flash");
validateInLanguage();

function open(id, { focus = true } = {}) {
  show($("#loading"), false);
  for (const s of sections) show($(`#${s}`), s === id);
  if (focus) focusStep($(`#${id}`));
}

function note(message, kind = "success") {
  say(flash, message, kind);
}

// ---- log in and sign up ----------------------------------------------------

// The second step in progress, kept for this tab so a reload (or a change of
// language) returns to it instead of to the password form. Not secret: the
// email typed and the method types the login answered.
const PENDING = "pendingLogin";

function pending() {
  try {
    return JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  } catch {
    return null;
  }
}

function showLogin(message, kind = "error") {
  sessionStorage.removeItem(PENDING);
  renderNav(null);
  open("login");
  say($("#backup-used"), "");
  say($("#login-form .messages"), message, kind);
  // Why the person is here, said once: the next action (note("")) or a reload clears it.
  const arrival = takeArrivalNotice();
  if (arrival) note(t(arrival === "loggedOut" ? "login.loggedOut" : "login.signedOut"), "info");
}

$("#to-signup").addEventListener("click", () => {
  note("");
  open("signup");
});
$("#to-login").addEventListener("click", () => {
  note("");
  showLogin();
});

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".messages", form);
  say(box, "");
  note("");
  await busy($("button[type=submit]", form), async () => {
    try {
      await logIn(form.email.value, form.password.value);
      form.password.value = "";
    } catch (err) {
      say(box, describe(err));
      form.password.select();
    }
  });
});

async function logIn(email, password) {
  const answer = await api("POST", "/api/auth/login", { email, password });
  if (answer.status === "authenticated") {
    await showHome();
    if (answer.trustedBrowser) note(t("trusted.skipped"));
    return;
  }
  // A community's 2FA policy is due: this session can only set up a method.
  if (answer.status === "enrollment_required") return location.assign("/security?setup=1");
  const step = { email: email.trim().toLowerCase(), methods: answer.methods ?? [], preferred: answer.preferred ?? null };
  sessionStorage.setItem(PENDING, JSON.stringify(step));
  startVerify(step);
}

const passwordInput = $("#signup-password");
function countPassword() {
  const n = [...passwordInput.value.normalize("NFC")].length;
  const count = $("#signup-password-count");
  if (n < 15) count.textContent = t("signup.toGo", { count: 15 - n });
  else if (n > 128) count.textContent = t("signup.tooLong", { count: n - 128 });
  else count.textContent = t("signup.longEnough");
  count.classList.toggle("ok", n >= 15 && n <= 128);
}
passwordInput.addEventListener("input", countPassword);
countPassword();

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".messages", form);
  say(box, "");
  const body = { name: form.name.value, email: form.email.value, password: form.password.value };
  if (form.community.value.trim()) body.community = form.community.value;
  await busy($("button[type=submit]", form), async () => {
    try {
      await api("POST", "/api/auth/signup", body);
    } catch (err) {
      say(box, describe(err, { email_taken: t("signup.emailTaken") }));
      return;
    }
    // The account exists: log straight in rather than asking for the password again.
    try {
      await logIn(body.email, body.password);
      form.reset();
      countPassword();
      note(body.community ? t("signup.welcomeCommunity", { community: body.community.trim() }) : t("signup.welcome"));
    } catch (err) {
      $("#login-email").value = body.email;
      showLogin(t("signup.createdButLoginFailed", { reason: describe(err) }));
    }
  });
});

// ---- the second step -------------------------------------------------------

const OTHER_LABEL = {
  totp: "verify.useTotp",
  webauthn: "verify.useWebauthn",
  backup_code: "verify.useBackup",
  recovery_code: "verify.useRecovery",
};
let methods = [];
// When the account's second step is locked (ms since epoch), 0 if not: the lock
// covers every way, so choosing another one keeps saying so.
let lockedUntil = 0;
const lockedText = () => t("verify.locked", { wait: waitText(Math.ceil((lockedUntil - Date.now()) / 1000)) });

function startVerify({ email, methods: list, preferred }) {
  const supported = window.PublicKeyCredential !== undefined;
  methods = list.filter((m) => m !== "webauthn" || supported);
  if (methods.length === 0) methods = list;
  // The answer already puts the preferred method first; keep that order.
  const first = preferred && methods.includes(preferred) ? preferred : methods[0];
  lockedUntil = 0;
  $("#verify-who").replaceChildren(...(email ? tn("verify.who", { email: data("span", email) }) : []));
  renderNav(null);
  open("verify", { focus: false });
  chooseMethod(first);
}

function chooseMethod(method) {
  say($("#verify-error"), lockedUntil > Date.now() ? lockedText() : "");
  // Leaving the key prompt: stop the browser's ceremony so its dialog does not linger.
  if (method !== "webauthn" && ceremony)
    import("/assets/vendor/webauthn.js").then(
      (m) => m.WebAuthnAbortService?.cancelCeremony(),
      () => {},
    );
  for (const panel of document.querySelectorAll(".method-panel")) show(panel, panel.dataset.method === method);
  const panel = $(`#verify-${method}`);
  const others = methods.filter((m) => m !== method);
  const list = $("#verify-other-list");
  list.replaceChildren(
    ...others.map((m) =>
      h(
        "li",
        {},
        h("button", { type: "button", class: "link", "data-method": m, onclick: () => chooseMethod(m) }, OTHER_LABEL[m] ? t(OTHER_LABEL[m]) : methodLabel(m)),
      ),
    ),
  );
  show($("#verify-others"), others.length > 0);
  // A recovery code leads to setting up a new method, not to a full login: nothing to remember.
  show($("#verify-remember-row"), method !== "recovery_code");
  for (const input of panel.querySelectorAll("input")) input.value = "";
  if (method === "webauthn") {
    $("#webauthn-start").focus();
    // Start the ceremony at once: the key is what the user prefers or just chose.
    runWebAuthn($("#webauthn-start"));
  } else {
    focusStep(panel);
  }
}

for (const method of ["totp", "backup_code", "recovery_code"]) {
  $(`#verify-${method}`).addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const code = method === "totp" ? typedCode(form.code.value) : form.code.value;
    await busy($("button[type=submit]", form), () => verify({ method, code }, form.code));
  });
}

const WRONG = {
  totp: "verify.wrongTotp",
  backup_code: "verify.wrongBackup",
  recovery_code: "verify.wrongRecovery",
  webauthn: "verify.wrongWebauthn",
};

/**
 * A refused code or key, in words. The last refusals before the lock add how many
 * tries are left and how long the lock would last; the one that sets the lock says
 * the lock at once, not at the next try (docs/api.md "Lockout"), and alone: the
 * plain refusal's advice (enter the code shown now, try the key again) would
 * contradict it.
 */
function notAccepted(method, err) {
  const wrong = t(WRONG[method]);
  if (err.attemptsLeft === null) return wrong;
  if (err.attemptsLeft === 0) {
    lockedUntil = Date.now() + (err.retryAfter ?? err.lockSeconds ?? 15 * 60) * 1000;
    return lockedText();
  }
  return `${wrong} ${t("verify.attemptsLeft", { count: err.attemptsLeft, wait: waitText(err.lockSeconds) })}`;
}

async function verify(body, input) {
  const remember = body.method !== "recovery_code" && $("#verify-remember").checked;
  try {
    const answer = await api("POST", "/api/auth/verify", remember ? { ...body, rememberBrowser: true } : body);
    sessionStorage.removeItem(PENDING);
    if (answer.status === "enrollment_required") {
      location.assign("/security?setup=1");
      return;
    }
    await showHome();
    if (answer.browserRemembered === true) note(t("trusted.remembered"));
    else if (answer.browserRemembered === false) note(t("trusted.notAllowed"), "info");
    if (body.method === "backup_code") await sayBackupCodesLeft();
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthenticated") {
      showLogin(t("verify.expired"));
      return;
    }
    say(
      $("#verify-error"),
      describe(err, {
        invalid_code: (e) => notAccepted(body.method, e),
        too_many_attempts: (e) => {
          lockedUntil = Date.now() + (e.retryAfter ?? 15 * 60) * 1000;
          return lockedText();
        },
      }),
    );
    if (input) input.select();
  }
}

/**
 * A backup code was just spent: say so and how many are left, with the way to
 * make new ones when few are (`fewBackupCodes`, the Security page's warning too).
 */
async function sayBackupCodesLeft() {
  let left;
  try {
    left = (await api("GET", "/api/security")).backupCodes.remaining;
  } catch {
    return; // the home page is there; the Security page still counts them
  }
  const few = fewBackupCodes(left);
  $("#backup-used").replaceChildren(
    h(
      "p",
      { class: "notice info" },
      t(left === 0 ? "home.backupLast" : "home.backupLeft", { count: left }),
      ...(few ? [" ", h("a", { href: "/security" }, t("backup.regenerate"))] : []),
    ),
  );
}

$("#webauthn-start").addEventListener("click", (event) => runWebAuthn(event.currentTarget));

let ceremony = false;
async function runWebAuthn(button) {
  if (ceremony) return;
  ceremony = true;
  say($("#verify-error"), "");
  try {
    await busy(button, async () => {
      let optionsJSON;
      try {
        optionsJSON = await api("POST", "/api/auth/webauthn/options");
      } catch (err) {
        if (err instanceof ApiError && err.code === "unauthenticated") return showLogin(t("verify.expiredShort"));
        return say($("#verify-error"), describe(err));
      }
      let response;
      try {
        const { startAuthentication } = await import("/assets/vendor/webauthn.js");
        response = await startAuthentication({ optionsJSON });
      } catch (err) {
        if ($("#verify-webauthn").hidden) return; // the user chose another way meanwhile
        const cancelled = err?.name === "NotAllowedError" || err?.code === "ERROR_CEREMONY_ABORTED";
        return say($("#verify-error"), t(cancelled ? "verify.webauthnCancelled" : "verify.webauthnUnsupported"));
      }
      await verify({ method: "webauthn", response }, null);
    });
  } finally {
    ceremony = false;
  }
}

$("#verify-cancel").addEventListener("click", async () => {
  await api("POST", "/api/auth/logout").catch(() => {});
  showLogin();
});

// ---- the account overview --------------------------------------------------

const roleBadge = (role) => h("span", { class: "badge" }, t(role === "admin" ? "role.admin" : "role.member"));

async function showHome() {
  sessionStorage.removeItem(PENDING);
  const who = await whoAmI();
  if (!who.me) return who.error ? showLogin(describe(who.error)) : showLogin();
  const me = who.me;
  if (me.stage === "enrollment") {
    location.assign("/security?setup=1");
    return;
  }
  // An invitation link opened before logging in: back to it now.
  if (sessionStorage.getItem("invitationToken")) {
    location.assign("/invitations");
    return;
  }
  renderNav(me);
  $("#home-title").replaceChildren(...tn("home.hello", { name: data("span", me.user.name) }));
  $("#home-who").replaceChildren(...tn("home.who", { email: data("strong", me.user.email) }));
  const on = me.twoFactor.enabled;
  $("#home-2fa").replaceChildren(
    h("strong", {}, t(on ? "home.on" : "home.off")),
    " ",
    on ? (me.twoFactor.preferred ? t("home.onPreferred", { method: methodLabel(me.twoFactor.preferred, { lower: true }) }) : "") : t("home.offAdvice"),
  );
  $("#home-2fa").className = on ? "status on" : "status off";
  $("#home-security-link").textContent = t(on ? "home.securityLink" : "home.turnOnLink");
  $("#home-communities").replaceChildren(
    ...me.communities.map((c) =>
      h(
        "li",
        {},
        h("span", {}, data("strong", c.name), " ", roleBadge(c.role)),
        h(
          "span",
          { class: "row-actions" },
          c.role === "admin"
            ? h("a", { href: `/admin?community=${encodeURIComponent(c.id)}`, "aria-label": t("home.manageNamed", { community: c.name }) }, t("home.manage"))
            : null,
          " ",
          h(
            "button",
            {
              type: "button",
              class: "secondary leave-community",
              "data-community": c.id,
              "aria-label": t("leave.buttonNamed", { community: c.name }),
              onclick: (event) => leaveCommunity(me, c, event.currentTarget),
            },
            t("leave.button"),
          ),
        ),
      ),
    ),
  );
  show($("#home-communities-card"), me.communities.length > 0);
  open("home");
  await loadInvitations();
}

/** Leaving a community, after a confirmation that says what it changes; the last admin is told why they cannot. */
async function leaveCommunity(me, community, button) {
  const box = $("#home-communities-error");
  say(box, "");
  const sure = await ask({
    title: t("leave.title", { community: community.name }),
    body: [h("p", {}, t("leave.what")), h("p", {}, t(community.role === "admin" ? "leave.whatAdmin" : "leave.back"))],
    confirm: t("leave.confirm"),
    danger: true,
  });
  if (!sure) return button.focus();
  await busy(button, async () => {
    try {
      await api("DELETE", `/api/communities/${encodeURIComponent(community.id)}/members/${encodeURIComponent(me.user.id)}`);
      await showHome();
      note(t("leave.done", { community: community.name }));
      focusStep(me.communities.length > 1 ? $("#home-communities-card") : $("#home"));
    } catch (err) {
      if (err instanceof ApiError && err.code === "unauthenticated") return showLogin();
      say(box, describe(err, { not_found: t("leave.gone") }));
      button.focus();
    }
  });
}

async function loadInvitations() {
  const box = $("#home-invitations-error");
  let invitations = [];
  try {
    ({ invitations } = await api("GET", "/api/invitations"));
  } catch (err) {
    say(box, t("home.invitationsFailed", { reason: describe(err) }));
    show($("#home-invitations-card"), true);
    return;
  }
  say(box, "");
  $("#home-invitations").replaceChildren(
    ...invitations.map((inv) => {
      const accept = h(
        "button",
        { type: "button", class: "primary", "aria-label": t("home.acceptNamed", { community: inv.community.name }) },
        t("home.accept"),
      );
      accept.addEventListener("click", () =>
        busy(accept, async () => {
          try {
            const { community } = await api("POST", `/api/invitations/${encodeURIComponent(inv.id)}/accept`);
            await showHome();
            note(t(community.role === "admin" ? "home.joinedAdmin" : "home.joinedMember", { community: community.name }));
          } catch (err) {
            say(box, describe(err, { not_found: t("home.invitationGone") }));
          }
        }),
      );
      return h(
        "li",
        {},
        h(
          "span",
          {},
          ...tn(inv.role === "admin" ? "home.inviteAdmin" : "home.inviteMember", { community: data("strong", inv.community.name) }),
          h("br"),
          h("span", { class: "muted small" }, t("common.expires", { date: formatDateTime(inv.expiresAt) })),
        ),
        accept,
      );
    }),
  );
  show($("#home-invitations-card"), invitations.length > 0);
}

$("#home-logout").addEventListener("click", logOut);

// ---- start -----------------------------------------------------------------

const who = await whoAmI();
if (who.me) await showHome();
else if (who.error) showLogin(describe(who.error));
else if (who.stage === "second_factor" && pending()) startVerify(pending());
else showLogin();
