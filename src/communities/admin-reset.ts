import type { Context } from "hono";
import { passwordMatches } from "../auth/reauth";
import { findUserById } from "../auth/store";
import { takeSlots } from "../auth/throttle";
import type { AppEnv } from "../env";
import { noticeRecipient } from "../guard/reset";
import { guardFor } from "../guard/user-guard";
import { callerFor, callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import type { WindowPolicy } from "../lib/sliding-window";
import { storedLang } from "../notify/language";
import type { Session } from "../session";
import { coAdminsOf, communityName, membershipOf, stillMembers } from "./store";

/** docs/api.md "Admin reset safeguards": at most 10 resets per community per 24 hours. */
export const RESETS_PER_COMMUNITY: WindowPolicy = { limit: 10, windowMs: 24 * 60 * 60 * 1000 };

/** Why the admin's own guard would not begin a reset: their session was ended, or their 2FA is off, since the route's checks. */
function beginRefusal(reason: string): AppError {
  if (reason === "stale_session") return new AppError("unauthenticated", "Your session has ended; log in again");
  if (reason === "not_enrolled") return new AppError("two_factor_required", "Turn on two-factor authentication for your own account before resetting anyone's");
  // The admin left the community, or was removed from it, since the route's checks: outside it, as the contract answers (R13m).
  if (reason === "not_member") return new AppError("not_found", "No such community");
  return new AppError("forbidden", "This session cannot make this change");
}

/**
 * An admin resets a member's 2FA, with the safeguards in the contract's order:
 * the 429s first (the admin's password attempts, then the community's resets),
 * then this endpoint's own errors. A refusal gives back what it took, except a
 * wrong password, which spends its password attempt as any wrong password
 * does. The member's guard makes the reset in one step.
 */
export async function resetMember(c: Context<AppEnv>, session: Session, cid: string, uid: string, password: string) {
  const now = Date.now();
  const adminGuard = guardFor(c.env, session.user.id);
  const attempt = await adminGuard.takePasswordAttempt(now);
  if (!attempt.ok) throw new AppError("too_many_attempts", "Too many wrong passwords; wait before trying again", { retryAfter: attempt.retryAfter });
  let release: () => Promise<void>;
  try {
    release = await takeSlots(
      c.env,
      [{ key: `resets-community:${cid}`, policy: RESETS_PER_COMMUNITY }],
      now,
      "This community made 10 resets in the last 24 hours; wait before the next",
    );
  } catch (err) {
    await adminGuard.refundPasswordAttempt(now);
    throw err;
  }
  const refuse = async (err: AppError, spentPassword: boolean): Promise<AppError> => {
    await release();
    if (!spentPassword) await adminGuard.refundPasswordAttempt(now);
    return err;
  };
  // A captured or rogue admin account must not reset anyone with a password alone.
  if (!(await adminGuard.summary()).enabled)
    throw await refuse(new AppError("two_factor_required", "Turn on two-factor authentication for your own account before resetting anyone's"), false);
  if (!(await passwordMatches(c.env, session.user.id, password))) throw await refuse(new AppError("invalid_credentials", "The password is wrong"), true);
  await adminGuard.refundPasswordAttempt(now);

  const [member, target, name] = await Promise.all([findUserById(c.env.DB, uid), membershipOf(c.env.DB, cid, uid), communityName(c.env.DB, cid)]);
  if (!member || !target) throw await refuse(new AppError("not_found", "No such member"), false);
  // Resetting an admin also tells every other admin of each community the member administers: of this one, the
  // acting admin included, and of any other, where the account taken over through this reset is an admin too
  // (docs/security.md R11n). Each email is in its reader's stored language, else this request's (docs/email.md "Which language").
  const requestLang = c.get("meta").lang;
  const notify = (await coAdminsOf(c.env.DB, uid)).map((a) => noticeRecipient(a, requestLang));
  const memberCaller = callerFor(c, { id: member.id, email: member.email, name: member.name }, storedLang(member.lang));
  // The admin's session and 2FA again, in the admin's guard, with the reset's start recorded there: a reset of this
  // admin may have landed since the checks above (docs/security.md R12m).
  const begun = await adminGuard.beginAdminReset(callerOf(c, session.user, session), member.id, cid);
  if (!begun.ok) throw await refuse(beginRefusal(begun.reason), false);
  // Both memberships again, after the begin: a leave or removal from now on is told to the guards before D1 deletes
  // the row (src/communities/member-routes.ts), and a reset may take at most ADMIN_ACT_MS from here to land, so the
  // guards need remember an end only that long (docs/security.md R13m).
  const still = await stillMembers(c.env.DB, cid, session.user.id, member.id);
  if (still !== "both") {
    await adminGuard.endAdminReset(member.id, begun.at);
    throw await refuse(new AppError("not_found", still === "admin_gone" ? "No such community" : "No such member"), false);
  }
  // The member's email names who reset and for which community; the member may belong to several.
  const admin = { id: session.user.id, name: session.user.name, stage: session.stage, communityId: cid, beganAt: begun.at, landed: begun.landed };
  const reset = await guardFor(c.env, member.id)
    .adminReset(memberCaller, { ...admin, ...(name !== null ? { communityName: name } : {}) }, notify)
    .catch(async (err: unknown) => {
      await adminGuard.endAdminReset(member.id, begun.at);
      throw err;
    });
  if (!reset.ok) {
    await adminGuard.endAdminReset(member.id, begun.at);
    // The member had begun resetting this admin first: one after the other, this session would be ended by now.
    if (reset.reason === "admin_reset_first")
      throw await refuse(new AppError("unauthenticated", "Your own two-factor authentication was reset; log in again"), false);
    // The member left or was removed (or the admin was) after the checks above: what the contract answers a non-member (R13m).
    if (reset.reason === "not_member") throw await refuse(new AppError("not_found", "No such member"), false);
    throw await refuse(new AppError("forbidden", "This session cannot make this change"), false);
  }
  return { recoveryCode: reset.recoveryCode, expiresAt: new Date(reset.expiresAt).toISOString() };
}
