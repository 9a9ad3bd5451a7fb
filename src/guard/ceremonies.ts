import { CHALLENGES_PER_SESSION, type ChallengePurpose, type CredentialDescriptor, issueChallenge, listCredentials } from "../factors/webauthn/store";
import { FULL_SESSIONS_KEPT, HALF_SESSIONS_KEPT } from "../session";
import { hasRoomForMethod } from "./enroll";
import { findHalfSession } from "./half-sessions";
import type { Outcome, SessionCaller } from "./types";

/**
 * A security-key ceremony belongs to the session that asked for its options
 * (WebAuthn §13.4.3, docs/security.md R10b): its challenge is stored under
 * that session and spent only by it, so one session can neither spend nor
 * push out another's.
 */

/**
 * The open challenges of a purpose one user may have: as many per session as the sessions that can ask
 * for them, so that live sessions alone never reach it. Login options come from second-step sessions, of
 * which the guard keeps HALF_SESSIONS_KEPT (src/guard/half-sessions.ts) and drops the challenges of the
 * ones it lets go; registration options from full and enrollment sessions, which D1 keeps (the same
 * number for enrollment as for the second step, migrations/0012_sessions_kept.sql).
 */
export const OPEN_CHALLENGES: Record<ChallengePurpose, number> = {
  authentication: HALF_SESSIONS_KEPT * CHALLENGES_PER_SESSION,
  registration: (FULL_SESSIONS_KEPT + HALF_SESSIONS_KEPT) * CHALLENGES_PER_SESSION,
};

/**
 * The session a ceremony of `purpose` is bound to, or null when the caller has none to bind it to.
 * A login: the half session's id, which the guard keeps and which stays until the step passes; only a
 * half session the guard still keeps may ask (its second step would be refused anyway). A registration:
 * the D1 session's public id, which stays when its token changes (a re-entered password, 2FA turned on
 * from another tab) where its id does not.
 */
export function ceremonySession(sql: SqlStorage, caller: SessionCaller, purpose: ChallengePurpose): string | null {
  if (purpose === "registration") return caller.sessionPublicId ?? null;
  if (caller.sessionId === undefined) return null;
  return findHalfSession(sql, caller.user.id, caller.sessionId, caller.now) ? caller.sessionId : null;
}

/**
 * A fresh challenge of `purpose` for the caller's session alone, with the user's keys (the ones a login may
 * answer with, or a registration must not repeat), read once in the same step. Refused when a key could not
 * be added (MAX_METHODS, src/guard/enroll.ts), the caller has no session to bind it to (an ended session), or
 * a login has no key to answer it with: that refusal stores nothing, where the challenge used to be kept
 * behind the route's `409` (docs/security.md R13g).
 */
export function openCeremony(sql: SqlStorage, caller: SessionCaller, purpose: ChallengePurpose): Outcome<{ challenge: string; keys: CredentialDescriptor[] }> {
  if (purpose === "registration" && !hasRoomForMethod(sql)) return { ok: false, reason: "too_many" };
  const session = ceremonySession(sql, caller, purpose);
  if (session === null) return { ok: false, reason: "stale_session" };
  const keys = listCredentials(sql);
  if (purpose === "authentication" && keys.length === 0) return { ok: false, reason: "not_enrolled" };
  return { ok: true, challenge: issueChallenge(sql, purpose, session, OPEN_CHALLENGES[purpose], caller.now).challenge, keys };
}
