import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Client } from "./client";
import { reauth } from "./fixtures";

/** A community's two-factor policy as an admin sets it through the API. */
export interface PolicyInput {
  requireTwoFactor: boolean;
  graceDays: number;
  allowTrustedBrowsers: boolean;
}

export const REQUIRED_NOW: PolicyInput = { requireTwoFactor: true, graceDays: 0, allowTrustedBrowsers: true };

/** Re-enters the admin's password and sets the policy; expects 200 and returns the policy answered. */
export async function setPolicy(admin: Client, cid: string, policy: PolicyInput) {
  await reauth(admin);
  const res = await admin.json("PUT", `/api/communities/${cid}/policy`, policy);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.policy as { requireTwoFactor: boolean; graceDays: number; allowTrustedBrowsers: boolean; enforcedFrom: string | null };
}

/**
 * Moves a community's requirement and its members' joining `ms` into the past
 * (D1 rows), so deadlines pass without moving the clock every session reads.
 */
export async function shiftPolicyBack(cid: string, ms: number): Promise<void> {
  const [policy] = await env.DB.batch([
    env.DB.prepare("UPDATE communities SET enforced_from = enforced_from - ? WHERE id = ? AND require_two_factor = 1").bind(ms, cid),
    env.DB.prepare("UPDATE memberships SET joined_at = joined_at - ? WHERE community_id = ?").bind(ms, cid),
  ]);
  expect(policy?.meta.changes).toBe(1);
}
