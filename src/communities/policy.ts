/**
 * A community's two-factor policy and what it means for one member: plain
 * functions of stored facts and the time (docs/api.md "Community policy").
 */

export const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_GRACE_DAYS = 30;

export interface Policy {
  requireTwoFactor: boolean;
  graceDays: number;
  allowTrustedBrowsers: boolean;
  /** When the requirement last turned on; null while it is off. */
  enforcedFrom: number | null;
}

/** A member's standing: has 2FA or nothing is required (`ok`), still inside the grace period, or past it. */
export type Standing = "ok" | "grace" | "overdue";

/** The moment one community's policy requires 2FA of a member who joined at `joinedAt`; null when it requires nothing. */
export function requiredByFor(policy: Policy, joinedAt: number): number | null {
  if (!policy.requireTwoFactor || policy.enforcedFrom === null) return null;
  return Math.max(policy.enforcedFrom, joinedAt) + policy.graceDays * DAY_MS;
}

export function standingOf(requiredBy: number | null, twoFactorEnabled: boolean, now: number): Standing {
  if (twoFactorEnabled || requiredBy === null) return "ok";
  return now < requiredBy ? "grace" : "overdue";
}
