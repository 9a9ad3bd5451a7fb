import { OPERATOR_ACTOR, type SecurityEvent } from "../audit/events";
import { describeUserAgent } from "./user-agent";

/**
 * What each security email says. Pure text from the event: what happened,
 * when, from where, and what to do if it was not you. Never a code or secret:
 * events carry none, and these templates only read names and counts.
 */
export interface MailContent {
  subject: string;
  text: string;
}

const SUPPORT = "If this was not you, change your password now and ask an admin of your community to reset your two-factor authentication.";

/** The browser is described from a fixed vocabulary, never copied: see user-agent.ts. */
function where(e: SecurityEvent): string {
  const parts = [`When: ${new Date(e.at).toUTCString()}`];
  // Cloudflare sets CF-Connecting-IP; anything not shaped like an address is not shown.
  const ip = e.ip && /^[0-9A-Fa-f:.]{2,45}$/.test(e.ip) ? e.ip : "unknown address";
  parts.push(`From: ${ip} (${describeUserAgent(e.userAgent)})`);
  return parts.join("\n");
}

function text(intro: string, e: SecurityEvent, advice = SUPPORT): string {
  return `${intro}\n\n${where(e)}\n\n${advice}\n`;
}

/**
 * A name someone typed, quoted as data (JSON string syntax): its own quotes
 * and backslashes are escaped, so it cannot close the quotes early, and it
 * never stands as a sentence of ours. Names never hold control characters
 * (src/http/schemas.ts `Name`), so they cannot start a line either. A name
 * chosen by another user never goes into a subject line.
 */
export function quoted(name: string): string {
  return JSON.stringify(name);
}

function methodName(e: SecurityEvent): string {
  const type = e.data?.methodType === "webauthn" ? "security key" : "authenticator app";
  const name = e.data?.methodName;
  return typeof name === "string" ? `${type} ${quoted(name)}` : type;
}

/** Who acted on the user's account, when it was not the user: an admin, named as they typed it. */
export interface MailActor {
  name: string;
  communityName?: string;
}

/** Lines naming an admin and their community, each on its own line, the names quoted as data. */
export function actorLines(actor: MailActor): string {
  const lines = [`Admin, as they typed their name: ${quoted(actor.name)}`];
  if (actor.communityName !== undefined) lines.push(`Community name, as its admins typed it: ${quoted(actor.communityName)}`);
  return lines.join("\n");
}

/** The email for an event the user must know about, or null when none is sent. */
export function mailFor(e: SecurityEvent, extra: { actor?: MailActor } = {}): MailContent | null {
  switch (e.type) {
    case "two_factor_enabled":
      return { subject: "Two-factor authentication is on", text: text("Two-factor authentication was turned on for your account.", e) };
    case "two_factor_disabled":
      return {
        subject: "Two-factor authentication was turned off",
        text: text("Two-factor authentication was turned off for your account. Your password alone now logs you in.", e),
      };
    case "method_added":
      return { subject: "A two-factor method was added", text: text(`A new ${methodName(e)} was added to your account.`, e) };
    case "method_removed":
      return {
        subject: "A two-factor method was removed",
        text: text(`The ${methodName(e)} was removed from your account. Your other sessions were logged out.`, e),
      };
    case "backup_codes_regenerated":
      return {
        subject: "New backup codes were generated",
        text: text("New backup codes were generated for your account. Your old backup codes no longer work.", e),
      };
    case "backup_code_used":
      return {
        subject: "A backup code was used to log in",
        text: text(`A backup code was used to log in to your account. ${e.data?.remaining ?? 0} backup codes remain.`, e),
      };
    case "recovery_code_issued":
      if (e.actorId === OPERATOR_ACTOR) {
        return {
          subject: "Your two-factor authentication was reset",
          text: text(
            "The operator of this service reset your two-factor authentication, as you asked them to. All your sessions were logged out and your methods and backup codes were removed. Log in with your password and the single-use recovery code the operator gives you (valid 24 hours), then set up a new method. The address below is the operator's.",
            e,
            "If you did not ask for this reset, reply to the operator at once and change your password.",
          ),
        };
      }
      return {
        subject: "Your two-factor authentication was reset",
        text: text(
          `An admin of a community you belong to reset your two-factor authentication. All your sessions were logged out and your methods and backup codes were removed. Log in with your password and the single-use recovery code the admin gives you (valid 24 hours), then set up a new method. The address below is the admin's.${extra.actor ? `\n\n${actorLines(extra.actor)}` : ""}`,
          e,
          "If you did not ask for this reset, contact the admin and change your password.",
        ),
      };
    case "recovery_code_used":
      return {
        subject: "A recovery code was used",
        text: text("A recovery code was used to log in to your account. Set up a new two-factor method to finish.", e),
      };
    case "locked_out":
      return {
        subject: "Two-factor login locked for 15 minutes",
        text: text(
          "Too many wrong two-factor codes were entered for your account, so two-factor login is locked for 15 minutes.",
          e,
          "If this was not you, someone knows your password: change it now.",
        ),
      };
    case "member_left":
    case "member_removed": {
      const left = e.type === "member_left";
      const community = typeof e.data?.communityName === "string" ? `\n\nCommunity name, as its admins typed it: ${quoted(e.data.communityName)}` : "";
      const by = !left && extra.actor ? `\n${actorLines({ name: extra.actor.name })}` : "";
      return {
        subject: left ? "You left a community" : "You were removed from a community",
        text: text(
          `${left ? "You left a community." : "An admin removed you from a community."} Its admins can no longer see you in its members list or reset your two-factor authentication.${community}${by}`,
          e,
          left
            ? "If this was not you, change your password now and ask the community's admins to invite you again."
            : "If you did not expect this, ask the community's admins; only a new invitation you accept makes you a member again.",
        ),
      };
    }
    case "key_counter_anomaly":
      return {
        subject: "A security key may have been cloned",
        text: text(`A login with your ${methodName(e)} was refused because its signature counter went backwards, which can mean the key was cloned.`, e),
      };
    default:
      return null;
  }
}

/**
 * An invitation goes to an address that may have no account: it says who
 * invited, to what, when and where to accept, and that ignoring it is safe.
 * Anyone can create a community with any name and invite any address, so the
 * subject is fixed and the names, typed by the inviter, are quoted as data on
 * lines of their own. The link is the service's own origin, never a token:
 * accepting needs a login.
 */
export function invitationMail(input: {
  communityName: string;
  inviterName: string;
  role: string;
  expiresAt: number;
  origin: string;
  at?: number;
}): MailContent {
  const when = new Date(input.at ?? Date.now()).toUTCString();
  return {
    subject: "You are invited to join a community",
    text: [
      `Someone invited this email address to join a community as ${input.role === "admin" ? "an admin" : "a member"}.`,
      "",
      `Community name, as its admins typed it: ${quoted(input.communityName)}`,
      `Invited by, as they typed their name: ${quoted(input.inviterName)}`,
      `When: ${when}`,
      "",
      `To accept, log in (or sign up with this email address) at ${input.origin}/ and accept the invitation. It expires ${new Date(input.expiresAt).toUTCString()}.`,
      "",
      "If you do not know this community or did not expect this, ignore this email: nothing happens unless you accept. The names above are not checked by us; do not follow instructions in them. Admins of a community you join can reset your two-factor authentication.",
      "",
    ].join("\n"),
  };
}

/**
 * When an admin's two-factor authentication is reset, every other admin of the
 * community is told (the acting admin too: if that account was captured, its
 * owner learns what it did). A rogue or captured admin cannot quietly take
 * over a co-admin. The subject is fixed; the names are quoted as data.
 */
export function adminResetNotice(input: { actorName: string; targetName: string; targetEmail: string; communityName: string; at: number }): MailContent {
  return {
    subject: "An admin of your community had their two-factor authentication reset",
    text: [
      "An admin of a community you administer reset the two-factor authentication of another admin of that community. The reset admin can now log in with their password and a single-use recovery code.",
      "",
      `Community name, as its admins typed it: ${quoted(input.communityName)}`,
      `Admin who reset it, as they typed their name: ${quoted(input.actorName)}`,
      `Admin whose two-factor authentication was reset, as they typed their name: ${quoted(input.targetName)}`,
      `Their email address: ${input.targetEmail}`,
      `When: ${new Date(input.at).toUTCString()}`,
      "",
      "If you did not expect this, talk to both admins by a channel you trust. An admin can remove another admin from the community.",
      "",
    ].join("\n"),
  };
}

/**
 * Every change of a community's two-factor policy is told to each of its
 * admins (the acting one too: if that account was captured, its owner learns
 * what it did). The subject is fixed; the names are quoted as data.
 */
export function policyChangedNotice(input: {
  actorName: string;
  communityName: string;
  requireTwoFactor: boolean;
  graceDays: number;
  allowTrustedBrowsers: boolean;
  at: number;
}): MailContent {
  const requirement = input.requireTwoFactor
    ? `Two-factor authentication is required. Members without it have ${input.graceDays} day${input.graceDays === 1 ? "" : "s"} to set it up (counted from when the requirement started, or from when they joined if later); after that, their next login asks them to set it up before anything else.`
    : "Two-factor authentication is not required.";
  return {
    subject: "The two-factor policy of a community you administer changed",
    text: [
      "An admin changed the two-factor policy of a community you administer.",
      "",
      `Community name, as its admins typed it: ${quoted(input.communityName)}`,
      `Admin, as they typed their name: ${quoted(input.actorName)}`,
      `When: ${new Date(input.at).toUTCString()}`,
      "",
      requirement,
      input.allowTrustedBrowsers
        ? "Members may let a browser skip the second login step for 30 days."
        : "Members may not let a browser skip the second login step; browsers they trusted are forgotten.",
      "",
      "If you did not expect this, talk to the community's other admins by a channel you trust.",
      "",
    ].join("\n"),
  };
}
