// The header navigation, filled in once we know who is logged in. The language
// switch beside it is drawn by i18n.js on every page.
import { logOut } from "./api.js";
import { t } from "./i18n.js";
import { h } from "./ui.js";

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
}
