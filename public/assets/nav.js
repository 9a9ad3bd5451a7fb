// The header navigation, filled in once we know who is logged in.
import { logOut } from "./api.js";
import { h } from "./ui.js";

export function renderNav(me) {
  const nav = document.getElementById("nav");
  if (!nav) return;
  nav.replaceChildren();
  if (!me) return;
  const here = location.pathname.replace(/\/$/, "") || "/";
  const link = (href, text) => h("a", { href, "aria-current": here === href ? "page" : null }, text);
  const items = [];
  if (me.stage === "authenticated") {
    items.push(link("/", "Account"), link("/security", "Security"));
    if (me.communities.some((c) => c.role === "admin")) items.push(link("/admin", "Admin"));
  }
  items.push(h("button", { type: "button", class: "link", onclick: logOut }, "Log out"));
  nav.append(...items);
}
