import { OPERATOR_ACTOR, securityEvent } from "../audit/events";
import type { CodeHashParams } from "../lib/code-hash";
import { type Lang, storedLang } from "../notify/language";
import { adminResetNotice } from "../notify/templates";
import { RECOVERY_CODE_TTL_MS } from "../recovery/codes";
import type { Stage } from "../session";
import { type Effect, eventBy, eventCausedBy } from "./effects";
import { ADMIN_ACT_MS, bothStillMembers, hasLeft } from "./in-flight";
import { wipeFactors } from "./manage";
import { bumpEpoch, clearFailures, epochStatements, listMethods, readState } from "./state";
import { expireTokens } from "./tokens";
import { purgeExpired } from "./trusted";
import type { Caller, SessionCaller } from "./types";

/**
 * What others do to a user's account, and what time does to it: an admin's
 * reset, the end of a membership, the alarm's expiries. Synchronous bodies.
 */

export interface ResettingAdmin {
  id: string;
  name: string;
  stage: Stage;
  communityId?: string;
  communityName?: string;
  /** When the reset began in the admin's own guard (`beginAdminReset`); none for the operator, who has no guard. */
  beganAt?: number;
  /**
   * The starts of the member's resets of this admin that had landed on the admin before this reset began
   * (`beginAdminReset`): the admin's session came after them, so they do not come first (`resetFirst`).
   */
  landed?: number[];
}

/**
 * An admin's reset of `targetId` begins, in the admin's guard, as one step: the admin's 2FA is still on (the route
 * read it before the password's hash; a reset of the admin may have landed since) and the start is recorded. Two
 * admins resetting each other each passed every check before either reset landed, and both landed: each held the
 * other's recovery code, where one after the other the second admin's session and 2FA were gone (docs/security.md
 * R12m). The record lets the member's guard, should the member be resetting this admin too, keep only the reset
 * that began first (`resetFirst`).
 */
export function beginAdminReset(
  sql: SqlStorage,
  caller: SessionCaller,
  targetId: string,
  communityId?: string,
): { ok: true; at: number; landed: number[] } | { ok: false; reason: "not_enrolled" | "not_member" } {
  sql.exec("DELETE FROM admin_acts WHERE expires_at <= ?", caller.now);
  if (listMethods(sql).length === 0) return { ok: false, reason: "not_enrolled" };
  // The admin left or was removed from the community since the route read D1 (R13m): a reset begun from here on
  // would not be listed to that end's withdrawal (`leaveCommunity`), so it is refused here.
  if (communityId !== undefined && hasLeft(sql, communityId, caller.now)) return { ok: false, reason: "not_member" };
  sql.exec(
    "INSERT INTO admin_acts (target, began_at, expires_at, community) VALUES (?, ?, ?, ?)",
    targetId,
    caller.now,
    caller.now + 2 * ADMIN_ACT_MS,
    communityId ?? null,
  );
  // The target's resets of this user that landed before this step: the session checked above outlived none of them,
  // so it came after each (R12y). One that lands after this step is not listed, and still comes first.
  const landed = sql
    .exec<{ began_at: number }>("SELECT began_at FROM resets_received WHERE admin = ? AND expires_at > ?", targetId, caller.now)
    .toArray()
    .map((r) => r.began_at);
  return { ok: true, at: caller.now, landed };
}

/** A begun reset that did not land is forgotten: it must not stand against a later reset of this admin. */
export function endAdminReset(sql: SqlStorage, targetId: string, at: number): void {
  sql.exec("DELETE FROM admin_acts WHERE target = ? AND began_at = ?", targetId, at);
}

/**
 * Whether this guard's user (`memberId`) began a reset of `admin` before the admin began theirs: then that reset
 * comes first and the admin's, arriving here, is refused. Both guards compare the same two starts (ties go to the
 * smaller user id), so of two admins resetting each other exactly one reset lands, whichever guard hears first.
 * A start of this user's whose reset had already landed on the admin when the admin began (`admin.landed`) is not
 * counted: the admin came back after it, with a session it did not end, and may reset this user (R12y).
 * A reset arriving past ADMIN_ACT_MS after its start is refused too: this guard may no longer remember its own.
 * `now` is this guard's clock when the reset arrives, never the request's: the route stamps the member's caller in
 * the same instant as the start, so a reset held up on its way would look on time by it (R12z).
 */
export function resetFirst(sql: SqlStorage, memberId: string, admin: ResettingAdmin, now: number): boolean {
  if (admin.beganAt === undefined) return false;
  if (now - admin.beganAt > ADMIN_ACT_MS) return true;
  const landed = new Set(admin.landed ?? []);
  const starts = sql
    .exec<{ began_at: number }>("SELECT began_at FROM admin_acts WHERE target = ? AND expires_at > ?", admin.id, now)
    .toArray()
    .map((r) => r.began_at)
    .filter((at) => !landed.has(at));
  if (starts.length === 0) return false;
  const own = Math.min(...starts);
  return own < admin.beganAt || (own === admin.beganAt && memberId < admin.id);
}

/** A reset by `admin` landed on this guard's user: kept as long as the admin's record of its start (R12y). */
function recordLanded(sql: SqlStorage, admin: ResettingAdmin): void {
  if (admin.beganAt === undefined) return;
  sql.exec("DELETE FROM resets_received WHERE expires_at <= ?", admin.beganAt);
  sql.exec("INSERT INTO resets_received (admin, began_at, expires_at) VALUES (?, ?, ?)", admin.id, admin.beganAt, admin.beganAt + 2 * ADMIN_ACT_MS);
}

/** Someone told of a reset that is not theirs (another admin of a community the reset admin administers), in their own language. */
export interface NoticeRecipient {
  id: string;
  email: string;
  lang: Lang;
  /** The community they administer with the reset admin: a reset may concern several. */
  communityId: string;
  communityName: string;
}

/** An admin to tell, from their D1 row: in their stored language, else the language of the request that reset. */
export function noticeRecipient(
  admin: { id: string; email: string; lang: string | null; communityId: string; communityName: string },
  requestLang: Lang,
): NoticeRecipient {
  return { id: admin.id, email: admin.email, lang: storedLang(admin.lang) ?? requestLang, communityId: admin.communityId, communityName: admin.communityName };
}

/**
 * An admin's reset, as one step: every method and backup code goes, every
 * session dies (epoch), a lock is cleared, and one recovery code (hashed
 * before this step) replaces any unused one. `caller` is the member; `admin`
 * acts (or the service's operator, `OPERATOR_ACTOR`, through the same call).
 * Resetting an admin also tells `notify`, the other admins of each community
 * the member administers, in the same step: whoever takes a reset account
 * over holds its admin rights everywhere (docs/security.md R10e, R11n).
 * `arrivedAt`: this guard's clock, against which the admin's start is judged (`resetFirst`).
 */
export function adminReset(
  sql: SqlStorage,
  caller: Caller,
  admin: ResettingAdmin,
  code: { hash: string; params: CodeHashParams },
  notify: NoticeRecipient[],
  arrivedAt = caller.now,
): { ok: true; expiresAt: number; effects: Effect[] } | { ok: false; reason: "admin_reset_first" | "not_member" } {
  if (resetFirst(sql, caller.user.id, admin, arrivedAt)) return { ok: false, reason: "admin_reset_first" };
  if (!bothStillMembers(sql, admin, arrivedAt)) return { ok: false, reason: "not_member" };
  recordLanded(sql, admin);
  const expiresAt = caller.now + RECOVERY_CODE_TTL_MS;
  wipeFactors(sql);
  clearFailures(sql);
  sql.exec("UPDATE state SET recovery_pending = 1 WHERE id = 1");
  sql.exec("DELETE FROM recovery_claims");
  sql.exec(
    "INSERT OR REPLACE INTO recovery (id, hash, salt, iterations, key_id, issued_by, issued_at, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
    code.hash,
    code.params.salt,
    code.params.iterations,
    code.params.keyId ?? null,
    admin.id,
    caller.now,
    expiresAt,
  );
  const epoch = bumpEpoch(sql);
  const where: Record<string, string> = admin.communityId ? { communityId: admin.communityId } : {};
  // The request is the admin's (or the operator's): its address and browser are kept in their own member_reset below.
  const issued = eventCausedBy(caller, admin.id, "recovery_code_issued", { expiresAt: new Date(expiresAt).toISOString(), ...where });
  // The operator has no account, so no log of their own: the member's event names them as its actor.
  const adminEvents =
    admin.id === OPERATOR_ACTOR ? [] : [{ ...eventBy(caller, "member_reset", { memberId: caller.user.id, ...where }), userId: admin.id, actorId: admin.id }];
  const effects: Effect[] = [
    {
      statements: [
        { sql: "DELETE FROM methods WHERE user_id = ?", params: [caller.user.id] },
        { sql: "UPDATE users SET two_factor_enabled = 0, preferred = NULL, recovery_expires_at = ? WHERE id = ?", params: [expiresAt, caller.user.id] },
        ...epochStatements(caller.user.id, epoch),
      ],
      events: [issued, ...adminEvents],
      mailTo: caller.user.email,
      actor: admin.communityName !== undefined ? { name: admin.name, communityName: admin.communityName } : { name: admin.name },
    },
  ];
  const facts = {
    actorName: admin.name,
    byOperator: admin.id === OPERATOR_ACTOR,
    targetName: caller.user.name,
    targetEmail: caller.user.email,
    at: caller.now,
  };
  for (const other of notify) {
    // An admin of another community than the one the reset was made in is told so: the resetting admin is not one of theirs.
    const notice = adminResetNotice({ ...facts, communityName: other.communityName, elsewhere: other.communityId !== admin.communityId }, other.lang);
    effects.push({ statements: [], mail: { to: other.email, ...notice, userId: other.id, template: "admin_reset_notice" } });
  }
  return { ok: true, expiresAt, effects };
}

/**
 * A membership ended (the user left, or an admin removed them; the route has
 * deleted the row): the user's log and inbox learn it, since its admins can
 * no longer reset their 2FA.
 */
export function membershipEnded(
  caller: Caller,
  change: { communityId: string; communityName: string; removedBy: { id: string; name: string } | null },
): Effect {
  const data = { communityId: change.communityId, communityName: change.communityName };
  const event = change.removedBy ? eventCausedBy(caller, change.removedBy.id, "member_removed", data) : eventBy(caller, "member_left", data);
  const effect: Effect = { statements: [], events: [event], mailTo: caller.user.email };
  if (change.removedBy) effect.actor = { name: change.removedBy.name };
  return effect;
}

/**
 * The alarm's part: whatever has expired goes (unconfirmed apps, challenges,
 * recovery claims, an unused recovery code). An expired recovery code leaves
 * login at recovery_code_required (recovery_pending is kept: only a new reset
 * helps), and D1's copy of its expiry is cleared only if it still names this
 * code's, so a late retry never clears a newer reset's.
 */
export function expire(sql: SqlStorage, now: number): Effect | null {
  sql.exec("DELETE FROM totp WHERE confirmed_at IS NULL AND pending_expires_at <= ?", now);
  sql.exec("DELETE FROM challenges WHERE expires_at <= ?", now);
  sql.exec("DELETE FROM recovery_claims WHERE until <= ?", now);
  sql.exec("DELETE FROM admin_acts WHERE expires_at <= ?", now);
  sql.exec("DELETE FROM resets_received WHERE expires_at <= ?", now);
  sql.exec("DELETE FROM memberships_left WHERE expires_at <= ?", now);
  sql.exec("DELETE FROM resets_withdrawn WHERE expires_at <= ?", now);
  expireTokens(sql, now);
  purgeExpired(sql, now);
  const expired = sql
    .exec<{ expires_at: number; issued_by: string }>("DELETE FROM recovery WHERE expires_at <= ? RETURNING expires_at, issued_by", now)
    .toArray()[0];
  const userId = readState(sql).user_id;
  if (!expired || !userId) return null;
  return {
    statements: [{ sql: "UPDATE users SET recovery_expires_at = NULL WHERE id = ? AND recovery_expires_at = ?", params: [userId, expired.expires_at] }],
    events: [securityEvent("recovery_code_expired", userId, { ip: null, userAgent: null }, now, { actorId: expired.issued_by })],
  };
}
