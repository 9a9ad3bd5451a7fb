import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireStage, sessionOf } from "../auth/session-middleware";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { Cid, json, jsonBody, Password, problems, Role } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { resetMember } from "./admin-reset";
import { requireAdmin } from "./membership";
import { requiredByFor, standingOf } from "./policy";
import { communityWithPolicy, membershipOf, membersOf, RESET_EVENTS, resetEventsOf } from "./store";

/** A community's admin pages: its members, their reset events, the reset itself. Invitations: src/invitations/routes.ts. */
export const communityRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");

const Member = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: Role,
  twoFactor: z.object({ enabled: z.boolean(), methods: z.array(z.enum(["totp", "webauthn"])) }),
  recoveryCodeExpiresAt: z.string().nullable(),
  policy: z.enum(["ok", "grace", "overdue"]),
  requiredBy: z.string().nullable(),
});

communityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{cid}/members",
    tags: ["communities"],
    summary: "The community's members with their two-factor status (admins)",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid },
    responses: { 200: json(z.object({ members: z.array(Member) }), "Members"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const now = Date.now();
    const { cid } = c.req.valid("param");
    const [results, community] = await Promise.all([membersOf(c.env.DB, cid), communityWithPolicy(c.env.DB, cid)]);
    const members = results.map((r) => {
      const enabled = r.two_factor_enabled === 1;
      // This community's deadline only: what the member owes another community is not this admin's business.
      const required = community ? requiredByFor(community.policy, r.joined_at) : null;
      const policy = standingOf(required, enabled, now);
      return {
        id: r.id,
        email: r.email,
        name: r.name,
        role: r.role,
        twoFactor: {
          enabled,
          methods: (["totp", "webauthn"] as const).filter((t) => (r.types ?? "").split(",").includes(t)),
        },
        recoveryCodeExpiresAt: r.recovery_expires_at !== null && r.recovery_expires_at > now ? new Date(r.recovery_expires_at).toISOString() : null,
        policy,
        requiredBy: policy === "ok" || required === null ? null : new Date(required).toISOString(),
      };
    });
    return c.json({ members }, 200);
  },
);

const MemberEvent = z
  .object({
    type: z.enum(RESET_EVENTS),
    at: z.string(),
    member: z.object({ id: z.string(), email: z.string(), name: z.string() }),
    actor: z.object({ id: z.string(), name: z.string() }).nullable(),
    expiresAt: z.string().optional(),
  })
  .openapi("MemberEvent");

communityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{cid}/events",
    tags: ["communities"],
    summary: "The last 50 two-factor reset events of the community's members, newest first (admins)",
    description:
      "A member's reset since they joined this community, whichever community's admin made it: issued, used, or expired unused. `actor` is the admin who issued the code, shown only when that admin belongs to this community. The member's IP address and browser are not shown.",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid },
    responses: { 200: json(z.object({ events: z.array(MemberEvent) }), "Reset events"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const results = await resetEventsOf(c.env.DB, c.req.valid("param").cid);
    const events = results.map((r) => {
      const event: z.infer<typeof MemberEvent> = {
        type: r.type,
        at: new Date(r.at).toISOString(),
        member: { id: r.id, email: r.email, name: r.name },
        actor: r.actor_id ? { id: r.actor_id, name: r.actor_name ?? "" } : null,
      };
      const expiresAt = r.data ? (JSON.parse(r.data) as { expiresAt?: unknown }).expiresAt : undefined;
      if (r.type === "recovery_code_issued" && typeof expiresAt === "string") event.expiresAt = expiresAt;
      return event;
    });
    return c.json({ events }, 200);
  },
);

communityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{cid}/members/{uid}/reset-2fa",
    tags: ["communities"],
    summary: "Reset a member's two-factor authentication; returns a 24-hour single-use recovery code (admins with 2FA)",
    description:
      "At most 10 resets per community per 24 hours. Resetting an admin also emails every other admin of the community; resetting a member who administers other communities also emails every other admin of each of them. After the contract's common checks, an admin without 2FA gets 403 two_factor_required before the password is checked; then a wrong password gets 401 invalid_credentials.",
    middleware: [
      authenticated,
      requireAdmin,
      async (c, next) => {
        const session = sessionOf(c);
        const uid = c.req.param("uid") ?? "";
        if (!(await membershipOf(c.env.DB, c.req.param("cid") ?? "", uid))) throw new AppError("not_found", "No such member");
        if (uid === session.user.id) throw new AppError("forbidden", "Use your Security page to change your own two-factor authentication");
        await next();
      },
    ],
    request: { params: z.object({ cid: z.string().max(64), uid: z.string().max(64) }), ...jsonBody(z.object({ password: Password })) },
    responses: {
      200: json(z.object({ recoveryCode: z.string(), expiresAt: z.string() }), "Pass the code on through a secure channel"),
      ...problems(400, 401, 403, 404, 429),
    },
  }),
  async (c) => {
    const { cid, uid } = c.req.valid("param");
    return c.json(await resetMember(c, sessionOf(c), cid, uid, c.req.valid("json").password), 200);
  },
);
