import type { Lang } from "../notify/language";
import { policyChangedNotice } from "../notify/templates";
import { type Effect, eventBy } from "./effects";
import type { Caller } from "./types";

/**
 * A community's two-factor policy changed (the route has stored it in D1):
 * the acting admin's log records it, and every admin of the community is
 * emailed, one effect each, so the alarm retries each email on its own.
 */
export interface PolicyChange {
  communityId: string;
  communityName: string;
  requireTwoFactor: boolean;
  graceDays: number;
  allowTrustedBrowsers: boolean;
}

/** Each admin reads it in their own language (docs/email.md "Which language"). */
export function policyChanged(caller: Caller, change: PolicyChange, admins: { id: string; email: string; lang: Lang }[]): Effect[] {
  const event = eventBy(caller, "policy_changed", {
    communityId: change.communityId,
    communityName: change.communityName,
    requireTwoFactor: change.requireTwoFactor ? 1 : 0,
    graceDays: change.graceDays,
    allowTrustedBrowsers: change.allowTrustedBrowsers ? 1 : 0,
  });
  const facts = { actorName: caller.user.name, ...change, at: caller.now };
  return [
    { statements: [], events: [event] },
    ...admins.map(
      (a): Effect => ({ statements: [], mail: { to: a.email, ...policyChangedNotice(facts, a.lang), userId: a.id, template: "policy_changed_notice" } }),
    ),
  ];
}
