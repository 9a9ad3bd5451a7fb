import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireRecentReauth, requireStage, sessionOf } from "../auth/session-middleware";
import { takeTokens } from "../auth/throttle";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { Cid, json, jsonBody, problems, Role } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import type { BucketPolicy } from "../lib/token-bucket";
import { storedLang } from "../notify/language";
import { requireAdmin } from "./membership";
import { MAX_GRACE_DAYS, type Policy } from "./policy";
import { communityAdmins, communityWithPolicy, membershipOf, membersOf, savePolicy } from "./store";

/** A community as its members see it, and its two-factor policy (admins change it). */
export const policyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");

/**
 * Policy changes per community, by all its admins together: 30, then one every 2 minutes (room for any
 * admin's afternoon of trying settings, and for test suites that try every combination on one community). Every change emails every admin
 * and may call every member's guard, so without a bound one admin had each co-admin emailed once per request, as
 * fast as requests went (docs/security.md R11x). Bounded by refusing the change, never by dropping its email: the
 * email is how co-admins hear of a change.
 */
export const POLICY_CHANGES_PER_COMMUNITY: BucketPolicy = { capacity: 30, refillMs: 2 * 60 * 1000 };

const PolicyView = z
  .object({
    requireTwoFactor: z.boolean(),
    graceDays: z.number().int().min(0).max(MAX_GRACE_DAYS),
    allowTrustedBrowsers: z.boolean(),
    enforcedFrom: z.string().nullable(),
  })
  .openapi("CommunityPolicy");

function policyView(policy: Policy): z.infer<typeof PolicyView> {
  return {
    requireTwoFactor: policy.requireTwoFactor,
    graceDays: policy.graceDays,
    allowTrustedBrowsers: policy.allowTrustedBrowsers,
    enforcedFrom: policy.enforcedFrom === null ? null : new Date(policy.enforcedFrom).toISOString(),
  };
}

policyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{cid}",
    tags: ["communities"],
    summary: "The community, the caller's role in it and its two-factor policy (members)",
    middleware: [authenticated],
    request: { params: Cid },
    responses: {
      200: json(z.object({ community: z.object({ id: z.string(), name: z.string(), role: Role, policy: PolicyView }) }), "The community"),
      ...problems(401, 403, 404),
    },
  }),
  async (c) => {
    const { cid } = c.req.valid("param");
    const [own, community] = await Promise.all([membershipOf(c.env.DB, cid, sessionOf(c).user.id), communityWithPolicy(c.env.DB, cid)]);
    if (!own || !community) throw new AppError("not_found", "No such community");
    return c.json({ community: { id: community.id, name: community.name, role: own.role, policy: policyView(community.policy) } }, 200);
  },
);

const PolicyBody = z
  .object({
    requireTwoFactor: z.boolean(),
    graceDays: z.number().int().min(0).max(MAX_GRACE_DAYS),
    allowTrustedBrowsers: z.boolean(),
  })
  .strict()
  .openapi("CommunityPolicyRequest");

policyRoutes.openapi(
  createRoute({
    method: "put",
    path: "/{cid}/policy",
    tags: ["communities"],
    summary: "Change the community's two-factor policy (admins, password re-entered)",
    description:
      "`enforcedFrom` is set when `requireTwoFactor` turns on and kept by later changes of the other fields. An admin without 2FA cannot turn the requirement on (409 two_factor_required). Every change is written to the acting admin's log and emailed to every admin of the community. At most 30 changes per community, then one every 2 minutes, by all its admins together (429 too_many_attempts with Retry-After).",
    middleware: [authenticated, requireAdmin, requireRecentReauth],
    request: { params: Cid, ...jsonBody(PolicyBody) },
    responses: { 200: json(z.object({ policy: PolicyView }), "The policy now"), ...problems(400, 401, 403, 404, 409, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { cid } = c.req.valid("param");
    const change = c.req.valid("json");
    // 429 comes before the endpoint's own errors (docs/api.md "Conventions"); requireAdmin has shown the community is real.
    const giveBack = await takeTokens(
      c.env,
      [{ key: `policy-community:${cid}`, policy: POLICY_CHANGES_PER_COMMUNITY }],
      Date.now(),
      "Too many policy changes in this community; wait before changing it again",
    );
    const community = await communityWithPolicy(c.env.DB, cid);
    if (!community) throw new AppError("not_found", "No such community");
    const guard = guardFor(c.env, session.user.id);
    // An admin whose account falls to a password alone must not be the one who demands more of others.
    if (change.requireTwoFactor && !community.policy.requireTwoFactor && !(await guard.summary()).enabled) {
      // Nothing changed and nobody was emailed: the token goes back.
      await giveBack();
      throw new AppError("two_factor_required", "Turn on two-factor authentication for your own account before requiring it of others", { status: 409 });
    }
    const after = await savePolicy(c.env.DB, cid, change, Date.now());
    if (!after) throw new AppError("not_found", "No such community");
    // A policy that forbids remembered browsers forgets every member's at once (logins also ask, src/communities/trusted-policy.ts).
    // Each member's log names this admin as the one who acted, and the community, without the admin's address or browser
    // (docs/security.md R10f).
    if (community.policy.allowTrustedBrowsers && !after.allowTrustedBrowsers) {
      const members = await membersOf(c.env.DB, cid);
      await Promise.all(
        members.map((m) =>
          guardFor(c.env, m.id).forgetTrustedBrowsers(callerOf(c, { id: m.id, email: m.email, name: m.name }), "community_policy", session.user.id, {
            communityName: community.name,
          }),
        ),
      );
    }
    // Each admin is told in their stored language, else this request's (docs/email.md "Which language").
    const requestLang = c.get("meta").lang;
    const admins = (await communityAdmins(c.env.DB, cid)).map((a) => ({ id: a.id, email: a.email, lang: storedLang(a.lang) ?? requestLang }));
    await guard.policyChanged(callerOf(c, session.user, session), { communityId: cid, communityName: community.name, ...change }, admins);
    return c.json({ policy: policyView(after) }, 200);
  },
);
