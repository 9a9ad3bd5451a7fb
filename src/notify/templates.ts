import { OPERATOR_ACTOR, type SecurityEvent } from "../audit/events";
import { TOKEN_SLOT } from "../lib/email-token";
import type { MailKey } from "./i18n/en";
import type { Lang } from "./language";
import { describeUserAgent } from "./user-agent";
import { dateTime, t } from "./words";

/**
 * What each email says, in the reader's language: functions of (event or mail
 * data, language) that take every word from the catalogues (src/notify/i18n/)
 * and fill their placeholders. Never a code or secret: events carry none, and
 * these templates only read names, counts, times and addresses.
 * How to add an email: docs/email.md "Add an email".
 */
export interface MailContent {
  subject: string;
  text: string;
}

/** An email: its subject, then paragraphs (each a line or several), as plain text. */
function mail(subject: string, ...paragraphs: (string | null)[]): MailContent {
  return { subject, text: `${paragraphs.filter((p) => p !== null).join("\n\n")}\n` };
}

/**
 * When and from where, the browser described from a fixed vocabulary (never
 * copied: see user-agent.ts). Someone else's act (an admin's, the operator's)
 * says only when: its address and browser are theirs, not the reader's to see
 * (docs/email.md "Someone else's act…").
 */
function where(e: SecurityEvent, lang: Lang): string {
  if (e.actorId && e.actorId !== e.userId) return t(lang, "common.when", { time: dateTime(lang, e.at) });
  // Cloudflare sets CF-Connecting-IP; anything not shaped like an address is not shown.
  const address = e.ip && /^[0-9A-Fa-f:.]{2,45}$/.test(e.ip) ? e.ip : t(lang, "common.unknownAddress");
  return [t(lang, "common.when", { time: dateTime(lang, e.at) }), t(lang, "common.from", { address, browser: describeUserAgent(e.userAgent, lang) })].join(
    "\n",
  );
}

/** The shape of every security email: what happened, when and (for the user's own act) from where, what to do. */
function securityMail(lang: Lang, e: SecurityEvent, subject: MailKey, intro: string, advice: MailKey = "common.ifNotYou"): MailContent {
  return mail(t(lang, subject), intro, where(e, lang), t(lang, advice));
}

/** "for 2 hours": a lock's length in words, minutes under an hour, else whole hours (locks are 15 minutes times a power of two). */
function lockLength(lang: Lang, minutes: number): string {
  return minutes < 60 ? t(lang, "locked_out.for.minutes", { count: minutes }) : t(lang, "locked_out.for.hours", { count: Math.round(minutes / 60) });
}

/**
 * A name someone typed, quoted as data (JSON string syntax): its own quotes
 * and backslashes are escaped, so it cannot close the quotes early, and it
 * never stands as a sentence of ours. Names never hold control characters
 * (src/http/schemas.ts `Name`), so they cannot start a line either. A name
 * chosen by another user never goes into a subject line.
 *
 * Quoted, a name is still text a mail client turns into a link (`https://…`,
 * `www.…`, a bare `evil.example`): a phishing link in an email from our own
 * domain. So it is defused first, as security mailers do, by the rule in
 * docs/email.md "Names someone typed": `://` becomes `[:]//`, and a dot (or
 * a full-width or ideographic one, which hostnames take as a dot) between two
 * letters or digits becomes `[.]` (docs/security.md R13o). Our own links are
 * never quoted, so they stay as they are.
 */
export function quoted(name: string): string {
  return JSON.stringify(defused(name));
}

// A letter may be followed by its combining marks (a vowel sign ends many a label: `हिंदी`), and an invisible
// format character (a soft hyphen, a zero-width space: hostnames drop both, UTS #46) may stand on either side of
// the dot: the letter or digit is looked for past them (docs/security.md R13s).
const HOST_DOT = /(?<=[\p{L}\p{N}][\p{M}\p{Cf}]*)[.\u3002\uFF0E\uFF61](?=[\p{M}\p{Cf}]*[\p{L}\p{N}])/gu;

function defused(name: string): string {
  return name.replaceAll("://", "[:]//").replace(HOST_DOT, "[.]");
}

/** Who acted on the user's account, when it was not the user: an admin, named as they typed it. */
export interface MailActor {
  name: string;
  communityName?: string;
}

/** Lines naming an admin and their community, each on its own line, the names quoted as data. */
export function actorLines(actor: MailActor, lang: Lang): string {
  const lines = [t(lang, "names.admin", { name: quoted(actor.name) })];
  if (actor.communityName !== undefined) lines.push(t(lang, "names.community", { name: quoted(actor.communityName) }));
  return lines.join("\n");
}

/** The user's own method, named as the user typed it, in a sentence of the method type's own. */
function methodSentence(e: SecurityEvent, lang: Lang, keys: { totp: MailKey; webauthn: MailKey }): string {
  const key = e.data?.methodType === "webauthn" ? keys.webauthn : keys.totp;
  return t(lang, key, { name: quoted(String(e.data?.methodName ?? "")) });
}

/** The email for an event the user must know about, in `lang`, or null when none is sent. */
export function mailFor(e: SecurityEvent, lang: Lang, extra: { actor?: MailActor } = {}): MailContent | null {
  switch (e.type) {
    case "two_factor_enabled":
    case "two_factor_disabled":
    case "backup_codes_regenerated":
    case "recovery_code_used":
      return securityMail(lang, e, `${e.type}.subject`, t(lang, `${e.type}.body`));
    case "method_added":
    case "method_removed":
      return securityMail(lang, e, `${e.type}.subject`, methodSentence(e, lang, { totp: `${e.type}.body.totp`, webauthn: `${e.type}.body.webauthn` }));
    case "backup_code_used":
      return securityMail(lang, e, "backup_code_used.subject", t(lang, "backup_code_used.body", { count: Number(e.data?.remaining ?? 0) }));
    case "recovery_code_issued": {
      // The operator's reset (src/ops/) names no admin: the person asked the operator for it.
      if (e.actorId === OPERATOR_ACTOR) {
        return securityMail(lang, e, "recovery_code_issued.subject", t(lang, "recovery_code_issued.body.operator"), "recovery_code_issued.advice.operator");
      }
      const intro = t(lang, "recovery_code_issued.body") + (extra.actor ? `\n\n${actorLines(extra.actor, lang)}` : "");
      return securityMail(lang, e, "recovery_code_issued.subject", intro, "recovery_code_issued.advice");
    }
    case "locked_out": {
      // Each further lock lasts longer (src/guard/state.ts): the email says this one's length (the guard always records it; 15 is the first lock's).
      const duration = lockLength(lang, Number(e.data?.lockMinutes ?? 15));
      return mail(t(lang, "locked_out.subject", { duration }), t(lang, "locked_out.body", { duration }), where(e, lang), t(lang, "locked_out.advice"));
    }
    case "member_left":
    case "member_removed": {
      const lines = [t(lang, `${e.type}.body`)];
      const names: string[] = [];
      if (typeof e.data?.communityName === "string") names.push(t(lang, "names.community", { name: quoted(e.data.communityName) }));
      if (e.type === "member_removed" && extra.actor) names.push(actorLines({ name: extra.actor.name }, lang));
      if (names.length > 0) lines.push(names.join("\n"));
      return securityMail(lang, e, `${e.type}.subject`, lines.join("\n\n"), `${e.type}.advice`);
    }
    case "password_changed":
      return securityMail(lang, e, "password_changed.subject", t(lang, "password_changed.body"), "password_changed.advice");
    case "password_reset":
      return securityMail(
        lang,
        e,
        "password_reset.subject",
        t(lang, e.data?.twoFactorRemoved ? "password_reset.body.twoFactorRemoved" : "password_reset.body.twoFactorKept"),
        "password_changed.advice",
      );
    case "key_counter_anomaly":
      return securityMail(lang, e, "key_counter_anomaly.subject", t(lang, "key_counter_anomaly.body", { name: quoted(String(e.data?.methodName ?? "")) }));
    default:
      return null;
  }
}

/**
 * The new-browser alert: a full login to the account from a browser that had
 * not logged in to it before. When and from where, and what to do if it was
 * not the user: the password-reset page, which asks for the email and sends
 * its own link. The alert carries no token, so forwarding or leaking it gives
 * nobody anything; its subject is fixed.
 */
export function newBrowserMail(e: SecurityEvent, lang: Lang, origin: string): MailContent {
  return mail(
    t(lang, "new_browser_login.subject"),
    t(lang, "new_browser_login.body"),
    where(e, lang),
    t(lang, "new_browser_login.ifYou"),
    t(lang, "new_browser_login.ifNotYou", { resetUrl: `${origin}/reset-password`, securityUrl: `${origin}/security` }),
  );
}

/**
 * An invitation goes to an address that may have no account: it says who
 * invited, to what, when and where to accept, and that ignoring it is safe.
 * Anyone can create a community with any name and invite any address, so the
 * subject is fixed and the names, typed by the inviter, are quoted as data on
 * lines of their own. The link carries the invitation's single-use token after
 * `#` (TOKEN_SLOT here, sealed until delivery): accepting still needs a login,
 * and the token proves that the account reads this address.
 */
export function invitationMail(
  input: { communityName: string; inviterName: string; role: string; expiresAt: number; origin: string; at: number },
  lang: Lang,
): MailContent {
  return mail(
    t(lang, "invitation.subject"),
    t(lang, input.role === "admin" ? "invitation.body.admin" : "invitation.body.member"),
    [
      t(lang, "names.community", { name: quoted(input.communityName) }),
      t(lang, "names.invitedBy", { name: quoted(input.inviterName) }),
      t(lang, "common.when", { time: dateTime(lang, input.at) }),
    ].join("\n"),
    t(lang, "invitation.accept", { link: `${input.origin}/invitations#token=${TOKEN_SLOT}`, time: dateTime(lang, input.expiresAt) }),
    t(lang, "invitation.advice"),
  );
}

/**
 * When an admin's two-factor authentication is reset, every other admin of
 * each community they administer is told (the acting admin too: if that
 * account was captured, its owner learns what it did). A rogue or captured
 * admin cannot quietly take over a co-admin, nor an admin of another
 * community who joined theirs (`elsewhere`: the reset was made in a community
 * the reader does not administer), nor can whoever got the service's operator
 * to reset one (`byOperator`: then no person is named, the operator is). The
 * subject is fixed; the names are quoted as data.
 */
export function adminResetNotice(
  input: { actorName: string; byOperator?: boolean; elsewhere?: boolean; targetName: string; targetEmail: string; communityName: string; at: number },
  lang: Lang,
): MailContent {
  const body = input.byOperator ? "admin_reset_notice.body.operator" : input.elsewhere ? "admin_reset_notice.body.elsewhere" : "admin_reset_notice.body";
  return mail(
    t(lang, "admin_reset_notice.subject"),
    t(lang, body),
    [
      t(lang, "names.community", { name: quoted(input.communityName) }),
      input.byOperator ? t(lang, "admin_reset_notice.byOperator") : t(lang, "names.resettingAdmin", { name: quoted(input.actorName) }),
      t(lang, "names.resetAdmin", { name: quoted(input.targetName) }),
      t(lang, "names.resetAdminEmail", { email: input.targetEmail }),
      t(lang, "common.when", { time: dateTime(lang, input.at) }),
    ].join("\n"),
    t(lang, input.byOperator ? "admin_reset_notice.advice.operator" : "admin_reset_notice.advice"),
  );
}

/**
 * Emails that carry a single-use link. Each link puts its token after `#`
 * (never in the path or query: it stays out of logs and Referer), written as
 * TOKEN_SLOT here: the guard seals the token and puts it in only at delivery
 * (src/guard/sealed-token.ts). `origin` is the service's configured one
 * (src/http/public-origin.ts). `at` is when it was asked for.
 */
function tokenLink(origin: string, page: string): string {
  return `${origin}/${page}#token=${TOKEN_SLOT}`;
}

export function verifyEmailMail(input: { origin: string; at: number }, lang: Lang): MailContent {
  return mail(
    t(lang, "account.verify_email.subject"),
    t(lang, "account.verify_email.body"),
    tokenLink(input.origin, "verify-email"),
    t(lang, "common.when", { time: dateTime(lang, input.at) }),
    t(lang, "account.verify_email.until"),
    t(lang, "account.verify_email.advice"),
  );
}

export function passwordResetMail(input: { origin: string; at: number }, lang: Lang): MailContent {
  return mail(
    t(lang, "account.password_reset_link.subject"),
    t(lang, "account.password_reset_link.body"),
    tokenLink(input.origin, "reset-password"),
    t(lang, "common.when", { time: dateTime(lang, input.at) }),
    t(lang, "account.password_reset_link.effect"),
    t(lang, "account.password_reset_link.advice"),
  );
}

export function deviceLinkMail(input: { origin: string; at: number }, lang: Lang): MailContent {
  return mail(
    t(lang, "account.device_link.subject"),
    t(lang, "account.device_link.body"),
    t(lang, "common.when", { time: dateTime(lang, input.at) }),
    t(lang, "account.device_link.ifYou"),
    tokenLink(input.origin, "device"),
    t(lang, "account.device_link.ifNotYou"),
  );
}

/**
 * Every change of a community's two-factor policy is told to each of its
 * admins (the acting one too: if that account was captured, its owner learns
 * what it did). The subject is fixed; the names are quoted as data.
 */
export function policyChangedNotice(
  input: { actorName: string; communityName: string; requireTwoFactor: boolean; graceDays: number; allowTrustedBrowsers: boolean; at: number },
  lang: Lang,
): MailContent {
  return mail(
    t(lang, "policy_changed_notice.subject"),
    t(lang, "policy_changed_notice.body"),
    [
      t(lang, "names.community", { name: quoted(input.communityName) }),
      t(lang, "names.admin", { name: quoted(input.actorName) }),
      t(lang, "common.when", { time: dateTime(lang, input.at) }),
    ].join("\n"),
    [
      input.requireTwoFactor ? t(lang, "policy_changed_notice.required", { count: input.graceDays }) : t(lang, "policy_changed_notice.notRequired"),
      t(lang, input.allowTrustedBrowsers ? "policy_changed_notice.trusted" : "policy_changed_notice.notTrusted"),
    ].join("\n"),
    t(lang, "policy_changed_notice.advice"),
  );
}
