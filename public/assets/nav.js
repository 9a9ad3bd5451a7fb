// The header navigation, filled in once we know who is logged in. The language
// switch beside it is drawn by i18n.js on every page.
import { api, describe, logOut } from "./api.js";
import { formatDateTime, t, tn } from "./i18n.js";
import { busy, data, h, say } from "./ui.js";

// The back/forward cache shows a page again as it was, without asking the server: after a logout
// (here or in another tab) Back would show the account on a shared computer. A restored page loads
// again instead, and asks who is logged in (docs/pages.md "After logging out").
addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});

export function renderNav(me) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  nav.replaceChildren();
  if (!me) return;
  const here = location.pathname.replace(/\/$/, "") || "/";
  const link = (href, key) => h("a", { href, "aria-current": here === href ? "page" : null }, t(key));
  const items = [];
  if (me.stage === "authenticated") {
    items.push(link("/", "nav.account"), link("/security", "nav.security"));
    if (me.communities.some((c) => c.role === "admin")) items.push(link("/admin", "nav.admin"));
  }
  items.push(h("button", { type: "button", class: "link", onclick: logOut }, t("nav.logOut")));
  nav.append(...items);
  renderVerifyBanner(me);
  renderPolicyBanner(me);
}

/**
 * A community requires 2FA of someone who has none: every page says by when,
 * and offers to set it up. After the date, this session goes on, but the next
 * login asks for a method before anything else.
 */
function renderPolicyBanner(me) {
  document.getElementById("policy-banner")?.remove();
  const requiredBy = me.twoFactor?.requiredBy;
  const main = document.querySelector("main");
  if (!requiredBy || me.twoFactor.enabled || me.stage !== "authenticated" || !main) return;
  const overdue = Date.parse(requiredBy) <= Date.now();
  const banner = h(
    "div",
    { id: "policy-banner", class: "notice info" },
    h("p", {}, h("strong", {}, t("policy.bannerTitle")), " ", t(overdue ? "policy.bannerOverdue" : "policy.bannerGrace", { date: formatDateTime(requiredBy) })),
    location.pathname.startsWith("/security")
      ? null
      : h("p", {}, h("a", { class: "button primary", href: "/security", id: "policy-banner-setup" }, t("policy.bannerButton"))),
  );
  main.prepend(banner);
}

// Until the email is proven, every logged-in page says so at the top of its
// main content, with a button that sends a new link.
function renderVerifyBanner(me) {
  document.getElementById("verify-banner")?.remove();
  const main = document.getElementById("main");
  if (!main || !me || me.stage !== "authenticated" || me.user.emailVerified !== false) return;
  const status = h("div", { role: "status" });
  const resend = h("button", { type: "button", id: "verify-resend" }, t("account.verifyResend"));
  resend.addEventListener("click", async () => {
    try {
      await busy(resend, () => api("POST", "/api/auth/verify-email/resend"));
      say(status, t("account.verifySent"), "success");
    } catch (err) {
      say(status, describe(err));
    }
  });
  const title = h("strong", { id: "verify-banner-title" }, t("account.verifyTitle"));
  const text = h("p", {}, ...tn("account.verifyBanner", { email: data("strong", me.user.email) }));
  const banner = h("section", { id: "verify-banner", class: "warning", "aria-labelledby": "verify-banner-title" }, title, text, resend, status);
  const heading = main.querySelector(":scope > h1");
  if (heading) heading.after(banner);
  else main.prepend(banner);
}
