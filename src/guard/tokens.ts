import { eventStatement } from "../audit/events";
import type { Statement } from "../lib/statement";
import { type Change, type Effect, eventBy, type SealedToken } from "./effects";
import { leaveCommunity } from "./in-flight";
import { wipeFactors } from "./manage";
import { bumpPasswordEpoch, clearFailures, epochStatements } from "./state";
import { forgetAllTrustedBrowsers } from "./trusted";
import type { Caller, SessionCaller } from "./types";

/**
 * Single-use email tokens and what claiming one does: verify the email,
 * replace a forgotten password, change the password. Synchronous bodies: each
 * claim is one `DELETE … RETURNING` in the same step as everything it
 * decides (docs/architecture.md "Single use needs one synchronous step").
 */

export type TokenPurpose = "verify_email" | "password_reset" | "device_link";

const MINUTE = 60_000;
/** docs/api.md: a verification link lives 24 hours, a reset link 30 minutes, a device link 15. */
export const TOKEN_TTL_MS: Record<TokenPurpose, number> = {
  verify_email: 24 * 60 * MINUTE,
  password_reset: 30 * MINUTE,
  device_link: 15 * MINUTE,
};
/** At most one device link per account this often: the email cannot be used to flood its owner. */
export const DEVICE_LINK_EVERY_MS = 5 * MINUTE;

/** The email that carries a link: its text holds TOKEN_SLOT where the token goes (src/lib/email-token.ts). */
export interface LinkMail {
  subject: string;
  text: string;
  template: string;
}

export type Issued = { ok: true } | { ok: false; reason: "verified" | "too_soon" };

/**
 * A new token of `purpose` (hashed and sealed before this step) and the email
 * that carries it. A verification link is not sent once the email is proven;
 * a device link at most once every few minutes.
 */
export function issueToken(
  sql: SqlStorage,
  caller: Caller,
  purpose: TokenPurpose,
  hash: string,
  mail: LinkMail & { id: string },
  sealed: SealedToken,
): Change<Issued> {
  if (purpose === "verify_email" && isEmailVerified(sql)) return { result: { ok: false, reason: "verified" }, effect: null };
  if (purpose === "device_link" && !mayEmailDeviceLink(sql, caller.now)) return { result: { ok: false, reason: "too_soon" }, effect: null };
  storeToken(sql, purpose, hash, caller.now);
  return { result: { ok: true }, effect: { statements: [], mail: { to: caller.user.email, ...mail, userId: caller.user.id }, sealed } };
}

/** A claim; a verification link also proves the email in the same step. */
export function claim(sql: SqlStorage, caller: Caller, purpose: TokenPurpose, hash: string): Change<boolean> {
  if (!claimToken(sql, purpose, hash, caller.now)) return { result: false, effect: null };
  return { result: true, effect: purpose === "verify_email" ? markEmailVerified(sql, caller, "link") : null };
}

export type ResetResult = { ok: true; twoFactorRemoved: boolean } | { ok: false; reason: "invalid" };

/** A newer token of a purpose replaces the older one (the purpose is the key). */
export function storeToken(sql: SqlStorage, purpose: TokenPurpose, hash: string, now: number): number {
  const expiresAt = now + TOKEN_TTL_MS[purpose];
  sql.exec("INSERT OR REPLACE INTO tokens (purpose, hash, created_at, expires_at) VALUES (?, ?, ?, ?)", purpose, hash, now, expiresAt);
  return expiresAt;
}

/** The claim: true for exactly one caller of a live token, at any concurrency; it is gone after. */
export function claimToken(sql: SqlStorage, purpose: TokenPurpose, hash: string, now: number): boolean {
  return sql.exec("DELETE FROM tokens WHERE purpose = ? AND hash = ? AND expires_at > ? RETURNING purpose", purpose, hash, now).toArray().length === 1;
}

/** Whether a token would be claimed now, without claiming it (a reset's costly hash is not spent on a dead link). */
export function tokenLive(sql: SqlStorage, purpose: TokenPurpose, hash: string, now: number): boolean {
  return sql.exec("SELECT 1 FROM tokens WHERE purpose = ? AND hash = ? AND expires_at > ?", purpose, hash, now).toArray().length === 1;
}

export function isEmailVerified(sql: SqlStorage): boolean {
  return sql.exec<{ v: number }>("SELECT email_verified AS v FROM state WHERE id = 1").one().v === 1;
}

/** Marks the email proven (once; a second proof records nothing). */
export function markEmailVerified(sql: SqlStorage, caller: Caller, how: string): Effect | null {
  const changed = sql.exec("UPDATE state SET email_verified = 1 WHERE id = 1 AND email_verified = 0 RETURNING id").toArray().length === 1;
  // A verification link that is still out is no longer needed.
  sql.exec("DELETE FROM tokens WHERE purpose = 'verify_email'");
  if (!changed) return null;
  return { statements: [], events: [eventBy(caller, "email_verified", { via: how })] };
}

/** A device link may be emailed now: none was in the last few minutes. Records the sending when it may. */
export function mayEmailDeviceLink(sql: SqlStorage, now: number): boolean {
  return (
    sql.exec("UPDATE state SET device_link_at = ? WHERE id = 1 AND device_link_at <= ? RETURNING id", now, now - DEVICE_LINK_EVERY_MS).toArray().length === 1
  );
}

/**
 * The links a new password makes worthless, deleted in the step that sets it: a reset link (whoever saw it could
 * replace the password just chosen, R7e) and a device link (emailed for the old password, it would make whoever
 * read it a known browser of the new one, where a new password makes every browser new again: R10d, R12a).
 */
function retirePasswordLinks(sql: SqlStorage): void {
  sql.exec("DELETE FROM tokens WHERE purpose IN ('password_reset', 'device_link')");
}

function passwordStatement(userId: string, passwordHash: string): Statement {
  return { sql: "UPDATE users SET password_hash = ? WHERE id = ?", params: [passwordHash, userId] };
}

/** A community the account belongs to in which another user is an admin, as D1 listed it before the reset. */
export interface SharedCommunity {
  id: string;
  name: string;
}

/**
 * What a takeover undoes in D1 of what the unproven holder set up: the
 * account leaves every community in which another user is an admin (exactly
 * those whose admins could reset its 2FA; one it alone administers is kept,
 * its plain members reset nobody), and the invitations it sent that nobody
 * accepted are withdrawn (an admin invited by the squatter would join the
 * owner's community afterwards). The DELETE decides from D1 as it runs; each
 * `member_left` is written only if its community is one the DELETE then takes,
 * in the same batch (docs/security.md R11h).
 */
function takeoverStatements(caller: Caller, shared: SharedCommunity[]): Statement[] {
  const uid = caller.user.id;
  const left = shared.map((c) =>
    eventStatement(eventBy(caller, "member_left", { communityId: c.id, communityName: c.name, reason: "password_reset" }), {
      sql: `EXISTS (SELECT 1 FROM memberships WHERE community_id = ? AND user_id = ?)
            AND EXISTS (SELECT 1 FROM memberships WHERE community_id = ? AND role = 'admin' AND user_id != ?)`,
      params: [c.id, uid, c.id, uid],
    }),
  );
  return [
    ...left,
    {
      sql: "DELETE FROM memberships WHERE user_id = ?1 AND community_id IN (SELECT community_id FROM memberships WHERE role = 'admin' AND user_id != ?1)",
      params: [uid],
    },
    { sql: "DELETE FROM invitations WHERE invited_by = ? AND accepted_at IS NULL", params: [uid] },
  ];
}

/**
 * A forgotten password replaced through the emailed link, as one step: the
 * claim, the new hash, every session ended (epoch), the email marked proven.
 * 2FA stays, unless the email had never been proven: then whoever set it up
 * never showed they own the address, and the owner taking the account over
 * must not be locked out by a squatter's methods, so methods, backup codes, a
 * pending recovery and a lock go too, and nobody the squatter brought in stays
 * able to reset the owner (`takeoverStatements`; `shared` is read by the route).
 */
export function resetPassword(sql: SqlStorage, caller: Caller, hash: string, passwordHash: string, shared: SharedCommunity[]): Change<ResetResult> {
  if (!claimToken(sql, "password_reset", hash, caller.now)) return { result: { ok: false, reason: "invalid" }, effect: null };
  const unproven = !isEmailVerified(sql);
  const statements: Statement[] = [passwordStatement(caller.user.id, passwordHash)];
  if (unproven) {
    wipeFactors(sql);
    clearFailures(sql);
    sql.exec("UPDATE state SET recovery_pending = 0 WHERE id = 1");
    sql.exec("DELETE FROM recovery");
    sql.exec("DELETE FROM recovery_claims");
    statements.push(
      { sql: "DELETE FROM methods WHERE user_id = ?", params: [caller.user.id] },
      { sql: "UPDATE users SET two_factor_enabled = 0, preferred = NULL, recovery_expires_at = NULL WHERE id = ?", params: [caller.user.id] },
      ...takeoverStatements(caller, shared),
    );
    // Those memberships end in D1 after this step: a reset on its way from one of those admins is refused from now (R13m).
    for (const c of shared) leaveCommunity(sql, c.id, caller.now);
  }
  // Whoever took the account may have had a browser remembered: the new password alone must not log it in.
  forgetAllTrustedBrowsers(sql);
  retirePasswordLinks(sql);
  const verified = markEmailVerified(sql, caller, "password_reset");
  const epoch = bumpPasswordEpoch(sql);
  statements.push(...epochStatements(caller.user.id, epoch));
  const reset = eventBy(caller, "password_reset", unproven ? { twoFactorRemoved: 1 } : undefined);
  return {
    result: { ok: true, twoFactorRemoved: unproven },
    effect: { statements, events: [reset, ...(verified?.events ?? [])], mailTo: caller.user.email },
  };
}

/**
 * A password changed from the Security page: every other session ends (epoch),
 * the caller's is raised to the new epoch, and every remembered browser is
 * forgotten in the same step (one there stood in for the second factor next
 * to the old password: whoever knew it must not keep that). So are a reset
 * link and a device link still out (retirePasswordLinks).
 */
export function changePassword(sql: SqlStorage, caller: SessionCaller, passwordHash: string): Change<{ ok: true; epoch: number }> {
  forgetAllTrustedBrowsers(sql);
  retirePasswordLinks(sql);
  const epoch = bumpPasswordEpoch(sql);
  return {
    result: { ok: true, epoch },
    effect: {
      statements: [passwordStatement(caller.user.id, passwordHash), ...epochStatements(caller.user.id, epoch, caller.sessionId)],
      events: [eventBy(caller, "password_changed")],
      mailTo: caller.user.email,
    },
  };
}

/** The alarm's part for tokens: expired ones go (every claim checks its own expiry too). */
export function expireTokens(sql: SqlStorage, now: number): void {
  sql.exec("DELETE FROM tokens WHERE expires_at <= ?", now);
}
