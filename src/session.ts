import type { Lang } from "./notify/language";

/**
 * A session as every part of the service sees it: its stage, its user and
 * how long each stage lives. The sessions table and its cookie are
 * src/auth/session-store.ts; the guard sees a session through its Caller
 * (src/guard/types.ts).
 */

/** A session is in exactly one stage (docs/api.md "Session stages"). */
export type Stage = "second_factor" | "recovery" | "enrollment" | "authenticated";
export type HalfStage = Exclude<Stage, "authenticated">;
/** The stages that wait for a second step (a code, a key or an admin's recovery code): a half session's (src/guard/half-sessions.ts). */
export type SecondStepStage = "second_factor" | "recovery";

export function isSecondStepStage(stage: Stage): stage is SecondStepStage {
  return stage === "second_factor" || stage === "recovery";
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

export interface Session {
  id: string;
  /** The language the user's last login used (D1 `users.lang`), for emails no request of theirs proves (docs/email.md). */
  userLang: Lang | null;
  stage: Stage;
  epoch: number;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  reauthAt: number | null;
  /** The opaque id the Security page shows (neither the token nor its hash); stays when the token changes. */
  publicId: string;
  /** The password step came from a browser without a valid device cookie for this account. */
  newBrowser: boolean;
  user: SessionUser;
}

const MINUTE = 60_000;
/** Half-logged-in stages live 10 minutes (docs/api.md). */
export const HALF_SESSION_MS = 10 * MINUTE;
/** Full sessions: 12 hours at most, and 1 hour without a request ends them (NIST SP 800-63B-4 AAL2 §2.2.3). */
export const FULL_SESSION_MS = 12 * 60 * MINUTE;
export const IDLE_MS = 60 * MINUTE;
/** A re-entered password ("sudo") lasts 10 minutes. */
export const REAUTH_MS = 10 * MINUTE;

/**
 * The live sessions one account keeps, the least recently used ended first: 100 full ones (as many as the
 * Security page lists), and 20 of each half kind, counted apart so that a password alone cannot push the
 * full ones out (docs/security.md, R10a). D1 applies them in a trigger, migrations/0012_sessions_kept.sql.
 */
export const FULL_SESSIONS_KEPT = 100;
export const HALF_SESSIONS_KEPT = 20;

export function lifetime(stage: Stage): number {
  return stage === "authenticated" ? FULL_SESSION_MS : HALF_SESSION_MS;
}
