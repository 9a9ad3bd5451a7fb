// Security events in words a person reads, with local times.
import { browserInWords } from "./browser-words.js";
import { formatDateTime, t } from "./i18n.js";
import { h, methodLabel } from "./ui.js";

const quoted = (s) => (s ? t("common.quoted", { text: s }) : "");

/** The catalogue key and its parameters for each event type the API records (docs/api.md). */
const LABELS = {
  two_factor_enabled: () => ["event.two_factor_enabled"],
  two_factor_disabled: () => ["event.two_factor_disabled"],
  method_added: (d) => ["event.method_added", { method: methodLabel(d.methodType, { lower: true }), name: quoted(d.methodName) }],
  method_renamed: (d) => ["event.method_renamed", { from: quoted(d.previousName), to: quoted(d.methodName) }],
  method_removed: (d) => ["event.method_removed", { method: methodLabel(d.methodType, { lower: true }), name: quoted(d.methodName) }],
  backup_codes_regenerated: () => ["event.backup_codes_regenerated"],
  backup_code_used: (d) => (typeof d.remaining === "number" ? ["event.backup_code_used_left", { count: d.remaining }] : ["event.backup_code_used"]),
  recovery_code_issued: (d, e) => [
    e.actor?.name ? "event.recovery_code_issued_by" : "event.recovery_code_issued",
    { admin: e.actor?.name ?? "", until: d.expiresAt ? formatDateTime(d.expiresAt) : "—" },
  ],
  recovery_code_used: () => ["event.recovery_code_used"],
  recovery_code_expired: () => ["event.recovery_code_expired"],
  locked_out: () => ["event.locked_out"],
  key_counter_anomaly: () => ["event.key_counter_anomaly"],
  preferred_method_changed: (d) => ["event.preferred_method_changed", { method: methodLabel(d.methodType, { lower: true }) }],
  signed_up: () => ["event.signed_up"],
  logged_in: (d) =>
    d.method === "trusted_browser"
      ? ["trusted.eventLoggedIn"]
      : d.method && d.method !== "password"
        ? ["event.logged_in_with", { method: methodLabel(d.method, { lower: true }) }]
        : ["event.logged_in_password"],
  invitation_sent: () => ["event.invitation_sent"],
  invitation_accepted: () => ["event.invitation_accepted"],
  member_reset: () => ["event.member_reset"],
  email_verified: () => ["event.email_verified"],
  password_changed: () => ["event.password_changed"],
  password_reset: (d) => [d.twoFactorRemoved ? "event.password_reset_factors_removed" : "event.password_reset"],
  session_revoked: (d) =>
    d.scope === "others"
      ? ["event.session_revoked_others", { count: d.count ?? 0 }]
      : [d.scope === "this" ? "event.session_revoked_this" : "event.session_revoked_one"],
  new_browser_login: () => ["event.new_browser_login"],
  policy_changed: (d) => ["event.policy_changed", { community: quoted(d.communityName) }],
  // A takeover by password reset leaves the communities someone else administers (docs/security.md R11h).
  member_left: (d) => [d.reason === "password_reset" ? "event.member_left_takeover" : "event.member_left", { community: quoted(d.communityName) }],
  member_removed: (d, e) => [
    e.actor?.name ? "event.member_removed_by" : "event.member_removed",
    { community: quoted(d.communityName), admin: e.actor?.name ?? "" },
  ],
  trusted_browser_added: () => ["trusted.eventAdded"],
  trusted_browser_removed: (d, e) =>
    d.browserId
      ? ["trusted.eventRemoved"]
      : // A community's policy forgot them: who turned remembered browsers off, and where (older events name no community).
        d.reason === "community_policy" && e.actor?.name && d.communityName
        ? ["trusted.eventRemovedByPolicy", { count: d.count ?? 0, admin: e.actor.name, community: quoted(d.communityName) }]
        : ["trusted.eventRemovedAll", { count: d.count ?? 0 }],
};

export function eventLabel(e) {
  const label = LABELS[e.type];
  if (label) {
    const [key, params] = label(e.data ?? {}, e);
    return t(key, params);
  }
  return t("event.other", { type: e.type });
}

export function eventItem(e) {
  // The API's words for the browser (only when the event has one), as the sessions list shows them.
  const browser = e.browser ? browserInWords(e.browser) : "";
  const from =
    e.ip && browser
      ? t("event.fromIpBrowser", { ip: e.ip, browser: browserInWords(e.browser, { inSentence: true }) })
      : e.ip
        ? t("event.fromIp", { ip: e.ip })
        : browser;
  const d = new Date(e.at);
  return h(
    "li",
    { "data-type": e.type },
    h("span", {}, eventLabel(e)),
    h("span", { class: "when" }, h("time", { datetime: d.toISOString(), translate: "no" }, formatDateTime(e.at)), from ? [" · ", h("span", {}, from)] : null),
  );
}
