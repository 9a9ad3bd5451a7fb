// Security events in words a person reads, with local times.
import { formatDateTime, h, methodLabel } from "./ui.js";

const quoted = (s) => (s ? `“${s}”` : "");

const LABELS = {
  two_factor_enabled: () => "Two-factor authentication turned on",
  two_factor_disabled: () => "Two-factor authentication turned off",
  method_added: (d) => `Added ${methodLabel(d.methodType).toLowerCase()} ${quoted(d.methodName)}`,
  method_renamed: (d) => `Renamed ${quoted(d.previousName)} to ${quoted(d.methodName)}`,
  method_removed: (d) => `Removed ${methodLabel(d.methodType).toLowerCase()} ${quoted(d.methodName)}`,
  backup_codes_regenerated: () => "New backup codes generated; the old ones stopped working",
  backup_code_used: (d) => `Logged in with a backup code${typeof d.remaining === "number" ? ` (${d.remaining} left)` : ""}`,
  recovery_code_issued: (d, e) =>
    `Two-factor authentication reset by ${e.actor?.name ? `admin ${e.actor.name}` : "a community admin"}; recovery code issued${d.expiresAt ? `, valid until ${formatDateTime(d.expiresAt)}` : ""}`,
  recovery_code_used: () => "Logged in with the recovery code from your admin",
  locked_out: () => "Two-step login locked after too many wrong codes",
  key_counter_anomaly: () => "A security key reported an unexpected counter (it may have been copied)",
  preferred_method_changed: (d) => `Preferred method set to ${methodLabel(d.methodType).toLowerCase()}`,
  signed_up: () => "Account created",
  logged_in: (d) => (d.method && d.method !== "password" ? `Logged in with ${methodLabel(d.method).toLowerCase()}` : "Logged in with password"),
  invitation_sent: () => "Sent a community invitation",
  invitation_accepted: () => "Joined a community",
  member_reset: () => "You reset a member’s two-factor authentication",
};

/** "Chrome on Linux" from a User-Agent string; good enough to recognise your own devices. */
export function browserName(ua) {
  if (!ua) return "";
  const browser = /Edg\//.test(ua)
    ? "Edge"
    : /Firefox\//.test(ua)
      ? "Firefox"
      : /Chrome\/|Chromium\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : /curl|node|undici/i.test(ua)
            ? "a script"
            : "a browser";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  return os ? `${browser} on ${os}` : browser;
}

export function eventLabel(e) {
  const label = LABELS[e.type];
  if (label) return label(e.data ?? {}, e);
  const text = e.type.replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function eventItem(e) {
  const from = [e.ip ? `from ${e.ip}` : "", browserName(e.userAgent)].filter(Boolean).join(", ");
  const d = new Date(e.at);
  return h(
    "li",
    { "data-type": e.type },
    h("span", {}, eventLabel(e)),
    h("span", { class: "when" }, h("time", { datetime: d.toISOString() }, formatDateTime(e.at)), from ? ` · ${from}` : ""),
  );
}
