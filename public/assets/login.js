// The login page: sign up, log in, the second step, and the account overview.
import { ApiError, api, describe, logOut, whoAmI } from "./api.js";
import { renderNav } from "./nav.js";
import { $, busy, focusStep, formatDateTime, h, methodLabel, say, show } from "./ui.js";

const sections = ["login", "signup", "verify", "home"];
const flash = $("#flash");

function open(id, { focus = true } = {}) {
  show($("#loading"), false);
  for (const s of sections) show($(`#${s}`), s === id);
  if (focus) focusStep($(`#${id}`));
}

function note(message, kind = "success") {
  say(flash, message, kind);
}

// ---- log in and sign up ----------------------------------------------------

let pendingEmail = "";

function showLogin(message, kind = "error") {
  renderNav(null);
  open("login");
  say($("#login-form .notice"), message, kind);
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
  const box = $(".notice", form);
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
  pendingEmail = email.trim().toLowerCase();
  if (answer.status === "authenticated") return showHome();
  startVerify(answer.methods ?? [], answer.preferred);
}

const passwordInput = $("#signup-password");
passwordInput.addEventListener("input", () => {
  const n = [...passwordInput.value.normalize("NFC")].length;
  const count = $("#signup-password-count");
  if (n < 15) count.textContent = `${15 - n} more character${15 - n === 1 ? "" : "s"} to go`;
  else if (n > 128) count.textContent = `${n - 128} character${n - 128 === 1 ? "" : "s"} too long (at most 128)`;
  else count.textContent = "Long enough";
  count.classList.toggle("ok", n >= 15 && n <= 128);
});

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const box = $(".notice", form);
  say(box, "");
  const body = { name: form.name.value, email: form.email.value, password: form.password.value };
  if (form.community.value.trim()) body.community = form.community.value;
  await busy($("button[type=submit]", form), async () => {
    try {
      await api("POST", "/api/auth/signup", body);
    } catch (err) {
      say(box, describe(err, { email_taken: "An account with this email already exists. Log in instead, or use another email." }));
      return;
    }
    // The account exists: log straight in rather than asking for the password again.
    try {
      await logIn(body.email, body.password);
      form.reset();
      note(body.community ? `Welcome! Your account and the community “${body.community.trim()}” are ready.` : "Welcome! Your account is ready.");
    } catch (err) {
      $("#login-email").value = body.email;
      showLogin(`Your account was created, but logging in failed: ${describe(err)}`);
    }
  });
});

// ---- the second step -------------------------------------------------------

const OTHER_LABEL = {
  totp: "Use a code from your authenticator app",
  webauthn: "Use a security key",
  backup_code: "Use a backup code",
  recovery_code: "Use the recovery code",
};
let methods = [];

function startVerify(list, preferred) {
  const supported = window.PublicKeyCredential !== undefined;
  methods = list.filter((m) => m !== "webauthn" || supported);
  if (methods.length === 0) methods = list;
  // The answer already puts the preferred method first; keep that order.
  const first = preferred && methods.includes(preferred) ? preferred : methods[0];
  $("#verify-who").textContent = pendingEmail ? `Logging in as ${pendingEmail}.` : "";
  renderNav(null);
  open("verify", { focus: false });
  chooseMethod(first);
}

function chooseMethod(method) {
  say($("#verify-error"), "");
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
      h("li", {}, h("button", { type: "button", class: "link", "data-method": m, onclick: () => chooseMethod(m) }, OTHER_LABEL[m] ?? methodLabel(m))),
    ),
  );
  show($("#verify-others"), others.length > 0);
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
    await busy($("button[type=submit]", form), () => verify({ method, code: form.code.value }, form.code));
  });
}

const WRONG = {
  totp: "That code was not accepted. Codes change every 30 seconds: enter the one your app shows now.",
  backup_code: "That backup code was not accepted. It may be mistyped or already used.",
  recovery_code:
    "That recovery code was not accepted. It may be mistyped, already used, or more than 24 hours old. If it keeps failing, ask your admin to reset your two-factor authentication again.",
  webauthn: "The security key was not accepted. Try again, or choose another way below.",
};

async function verify(body, input) {
  try {
    const answer = await api("POST", "/api/auth/verify", body);
    if (answer.status === "enrollment_required") {
      location.assign("/security?setup=1");
      return;
    }
    await showHome();
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthenticated") {
      showLogin("This login has expired (the second step must be finished within 10 minutes). Log in again.");
      return;
    }
    say(
      $("#verify-error"),
      describe(err, {
        invalid_code: WRONG[body.method],
        too_many_attempts: (e) =>
          `Too many wrong codes: two-step login is locked for your account for ${e.retryAfter ? Math.ceil(e.retryAfter / 60) : 15} minutes. Wait, then try again.`,
      }),
    );
    if (input) input.select();
  }
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
        if (err instanceof ApiError && err.code === "unauthenticated") return showLogin("This login has expired. Log in again.");
        return say($("#verify-error"), describe(err));
      }
      let response;
      try {
        const { startAuthentication } = await import("/assets/vendor/webauthn.js");
        response = await startAuthentication({ optionsJSON });
      } catch (err) {
        if ($("#verify-webauthn").hidden) return; // the user chose another way meanwhile
        const cancelled = err?.name === "NotAllowedError" || err?.code === "ERROR_CEREMONY_ABORTED";
        return say(
          $("#verify-error"),
          cancelled
            ? "The security key request was cancelled or timed out. Press “Use security key” to try again, or choose another way below."
            : "This browser could not use a security key. Choose another way below.",
        );
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

async function showHome() {
  const who = await whoAmI();
  if (!who.me) return who.error ? showLogin(describe(who.error)) : showLogin();
  const me = who.me;
  if (me.stage === "enrollment") {
    location.assign("/security?setup=1");
    return;
  }
  renderNav(me);
  $("#home-title").textContent = `Hello, ${me.user.name}`;
  $("#home-who").replaceChildren("You are logged in as ", h("strong", {}, me.user.email), ".");
  $("#home-2fa").replaceChildren(
    h("strong", {}, me.twoFactor.enabled ? "Two-factor authentication is on" : "Two-factor authentication is off"),
    me.twoFactor.enabled
      ? `${me.twoFactor.preferred ? `; you are asked for your ${methodLabel(me.twoFactor.preferred).toLowerCase()} first` : ""}.`
      : ". Turn it on in your security settings, so a leaked password alone cannot open your account.",
  );
  $("#home-2fa").className = me.twoFactor.enabled ? "status on" : "status off";
  $("#home-security-link").textContent = me.twoFactor.enabled ? "Security settings" : "Turn on two-factor authentication";
  const communities = $("#home-communities");
  communities.replaceChildren(
    ...me.communities.map((c) =>
      h(
        "li",
        {},
        h("span", {}, h("strong", {}, c.name), " ", h("span", { class: "badge" }, c.role === "admin" ? "Admin" : "Member")),
        c.role === "admin" ? h("a", { href: `/admin?community=${encodeURIComponent(c.id)}` }, "Manage members") : null,
      ),
    ),
  );
  show($("#home-communities-card"), me.communities.length > 0);
  open("home");
  await loadInvitations();
}

async function loadInvitations() {
  const box = $("#home-invitations-error");
  let invitations = [];
  try {
    ({ invitations } = await api("GET", "/api/invitations"));
  } catch (err) {
    say(box, `Could not load your invitations. ${describe(err)}`);
    show($("#home-invitations-card"), true);
    return;
  }
  say(box, "");
  $("#home-invitations").replaceChildren(
    ...invitations.map((inv) => {
      const accept = h("button", { type: "button", class: "primary" }, "Accept");
      accept.setAttribute("aria-label", `Accept the invitation to ${inv.community.name}`);
      accept.addEventListener("click", () =>
        busy(accept, async () => {
          try {
            const { community } = await api("POST", `/api/invitations/${encodeURIComponent(inv.id)}/accept`);
            await showHome();
            note(`You joined ${community.name} as ${community.role === "admin" ? "an admin" : "a member"}.`);
          } catch (err) {
            say(box, describe(err, { not_found: "This invitation has expired or was already used." }));
          }
        }),
      );
      return h(
        "li",
        {},
        h(
          "span",
          {},
          "Join ",
          h("strong", {}, inv.community.name),
          ` as ${inv.role === "admin" ? "an admin" : "a member"}`,
          h("br"),
          h("span", { class: "muted small" }, `Expires ${formatDateTime(inv.expiresAt)}`),
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
else showLogin();
