import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { passwordMatches } from "../auth/reauth";
import { requireStage, sessionOf } from "../auth/session";
import { findUserById } from "../auth/store";
import { takeSlots } from "../auth/throttle";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { publicOrigin } from "../http/public-origin";
import { Email, json, jsonBody, Password, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { newId } from "../lib/random";
import type { WindowPolicy } from "../lib/sliding-window";
import { invitationMail } from "../notify/templates";
import { communityAdmins, membershipOf, requireAdmin } from "./membership";

export const communityRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
export const invitationRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Invitations are valid for 7 days (docs/api.md). */
export const INVITATION_TTL_MS = 7 * DAY;
/** docs/api.md: at most 20 invitations per admin per hour and 100 per community per day. */
export const INVITATIONS_PER_ADMIN: WindowPolicy = { limit: 20, windowMs: HOUR };
export const INVITATIONS_PER_COMMUNITY: WindowPolicy = { limit: 100, windowMs: DAY };
/** docs/api.md "Admin reset safeguards": at most 10 resets per community per 24 hours. */
export const RESETS_PER_COMMUNITY: WindowPolicy = { limit: 10, windowMs: DAY };
const Role = z.enum(["admin", "member"]);
const Cid = z.object({ cid: z.string().max(64) });

const Member = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: Role,
  twoFactor: z.object({ enabled: z.boolean(), methods: z.array(z.enum(["totp", "webauthn"])) }),
  recoveryCodeExpiresAt: z.string().nullable(),
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
    const { results } = await c.env.DB.prepare(
      `SELECT u.id, u.email, u.name, m.role, u.two_factor_enabled, u.recovery_expires_at,
              (SELECT group_concat(DISTINCT t.type) FROM methods t WHERE t.user_id = u.id) AS types
       FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE m.community_id = ? ORDER BY u.name, u.email`,
    )
      .bind(c.req.valid("param").cid)
      .all<{
        id: string;
        email: string;
        name: string;
        role: "admin" | "member";
        two_factor_enabled: number;
        recovery_expires_at: number | null;
        types: string | null;
      }>();
    const members = results.map((r) => ({
      id: r.id,
      email: r.email,
      name: r.name,
      role: r.role,
      twoFactor: {
        enabled: r.two_factor_enabled === 1,
        methods: (["totp", "webauthn"] as const).filter((t) => (r.types ?? "").split(",").includes(t)),
      },
      recoveryCodeExpiresAt: r.recovery_expires_at !== null && r.recovery_expires_at > now ? new Date(r.recovery_expires_at).toISOString() : null,
    }));
    return c.json({ members }, 200);
  },
);

/** The events of a member's reset, from issue to use or expiry: what an admin needs to follow one up. */
const RESET_EVENTS = ["recovery_code_issued", "recovery_code_used", "recovery_code_expired"] as const;

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
      "A member's reset, whichever community's admin made it: issued, used, or expired unused. `actor` is the admin who issued the code, shown only when that admin belongs to this community. The member's IP address and browser are not shown.",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid },
    responses: { 200: json(z.object({ events: z.array(MemberEvent) }), "Reset events"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const cid = c.req.valid("param").cid;
    const { results } = await c.env.DB.prepare(
      `SELECT e.type, e.at, e.data, u.id, u.email, u.name, a.id AS actor_id, a.name AS actor_name
       FROM memberships m
       JOIN users u ON u.id = m.user_id
       JOIN events e ON e.user_id = m.user_id
       LEFT JOIN memberships am ON am.community_id = m.community_id AND am.user_id = e.actor_id
       LEFT JOIN users a ON a.id = am.user_id
       WHERE m.community_id = ? AND e.type IN (${RESET_EVENTS.map(() => "?").join(", ")})
       ORDER BY e.at DESC, e.rowid DESC LIMIT 50`,
    )
      .bind(cid, ...RESET_EVENTS)
      .all<{
        type: (typeof RESET_EVENTS)[number];
        at: number;
        data: string | null;
        id: string;
        email: string;
        name: string;
        actor_id: string | null;
        actor_name: string | null;
      }>();
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

const Invitation = z.object({ id: z.string(), email: z.string(), role: Role, expiresAt: z.string() }).openapi("Invitation");

communityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{cid}/invitations",
    tags: ["communities"],
    summary: "Invite an email; the account joins only by accepting (admins)",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid, ...jsonBody(z.object({ email: Email, role: Role })) },
    responses: { 201: json(z.object({ invitation: Invitation }), "Invited"), ...problems(400, 401, 403, 404, 409, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { cid } = c.req.valid("param");
    const { email, role } = c.req.valid("json");
    const db = c.env.DB;
    const now = Date.now();
    // The link in the email: from configuration, or fail closed before anything is written or counted.
    const origin = publicOrigin(c.env, c.get("meta"));
    // 429 comes before the endpoint's own errors (docs/api.md "Conventions").
    const release = await takeSlots(c.env, invitationWindows(session.user.id, cid), now, "Too many invitations; wait before sending more");
    const member = await db
      .prepare("SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.community_id = ? AND u.email = ?")
      .bind(cid, email)
      .first();
    if (member) {
      // Nothing is sent: the slots go back. Any later failure keeps them (an email may be on its way).
      await release();
      throw new AppError("already_member", "This person is already a member");
    }
    const invitation = { id: newId(), email, role, expiresAt: now + INVITATION_TTL_MS };
    const community = await db.prepare("SELECT name FROM communities WHERE id = ?").bind(cid).first<{ name: string }>();
    // One pending invitation per email and community: a new one replaces the old.
    await db.batch([
      db.prepare("DELETE FROM invitations WHERE community_id = ? AND email = ? AND accepted_at IS NULL").bind(cid, email),
      db
        .prepare("INSERT INTO invitations (id, community_id, email, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(invitation.id, cid, email, role, session.user.id, now, invitation.expiresAt),
    ]);
    // The email goes through the inviting admin's guard: recorded, then delivered with retries.
    const mail = invitationMail({
      communityName: community?.name ?? "",
      inviterName: session.user.name,
      role,
      expiresAt: invitation.expiresAt,
      origin,
      at: now,
    });
    const meta = c.get("meta");
    await guardFor(c.env, session.user.id).sendMail(callerOf(c, session.user), { to: email, ...mail, template: "invitation" }, [
      {
        sql: "INSERT OR IGNORE INTO events (id, user_id, type, at, ip, user_agent, data) VALUES (?, ?, 'invitation_sent', ?, ?, ?, ?)",
        params: [newId(), session.user.id, now, meta.ip, meta.userAgent, JSON.stringify({ communityId: cid, role })],
      },
    ]);
    return c.json({ invitation: { ...invitation, expiresAt: new Date(invitation.expiresAt).toISOString() } }, 201);
  },
);

/** The counts that bound invitations: per admin (an hour) and per community (a day), in Throttle objects. */
export function invitationWindows(adminId: string, cid: string) {
  return [
    { key: `invitations-admin:${adminId}`, policy: INVITATIONS_PER_ADMIN },
    { key: `invitations-community:${cid}`, policy: INVITATIONS_PER_COMMUNITY },
  ];
}

communityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{cid}/invitations",
    tags: ["communities"],
    summary: "Pending invitations (admins)",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid },
    responses: { 200: json(z.object({ invitations: z.array(Invitation) }), "Pending"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const { results } = await c.env.DB.prepare(
      "SELECT id, email, role, expires_at FROM invitations WHERE community_id = ? AND accepted_at IS NULL AND expires_at > ? ORDER BY created_at DESC",
    )
      .bind(c.req.valid("param").cid, Date.now())
      .all<{ id: string; email: string; role: "admin" | "member"; expires_at: number }>();
    return c.json({ invitations: results.map((r) => ({ id: r.id, email: r.email, role: r.role, expiresAt: new Date(r.expires_at).toISOString() })) }, 200);
  },
);

communityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{cid}/members/{uid}/reset-2fa",
    tags: ["communities"],
    summary: "Reset a member's two-factor authentication; returns a 24-hour single-use recovery code (admins with 2FA)",
    description:
      "At most 10 resets per community per 24 hours. Resetting an admin also emails every other admin of the community. After the contract's common checks, an admin without 2FA gets 403 two_factor_required before the password is checked; then a wrong password gets 401 invalid_credentials.",
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
    const session = sessionOf(c);
    const { cid, uid } = c.req.valid("param");
    const { password } = c.req.valid("json");
    const now = Date.now();
    const adminGuard = guardFor(c.env, session.user.id);
    // The contract's order: the 429s first (the admin's password attempts, then the community's
    // resets), then this endpoint's own errors. A refusal gives back what it took, except a wrong
    // password, which spends its password attempt as any wrong password does.
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

    const [member, target, community] = await Promise.all([
      findUserById(c.env.DB, uid),
      membershipOf(c.env.DB, cid, uid),
      c.env.DB.prepare("SELECT name FROM communities WHERE id = ?").bind(cid).first<{ name: string }>(),
    ]);
    if (!member || !target) throw await refuse(new AppError("not_found", "No such member"), false);
    // Resetting an admin also tells every other admin of the community, the acting one included.
    const notify = target.role === "admin" ? (await communityAdmins(c.env.DB, cid)).filter((a) => a.id !== uid) : [];
    const memberCaller = callerOf(c, { id: member.id, email: member.email, name: member.name });
    // The member's email names who reset and for which community; the member may belong to several.
    const reset = await guardFor(c.env, member.id).adminReset(
      memberCaller,
      { id: session.user.id, name: session.user.name, stage: session.stage, communityId: cid, ...(community ? { communityName: community.name } : {}) },
      notify,
    );
    if (!reset.ok) throw await refuse(new AppError("forbidden", "This session cannot make this change"), false);
    return c.json({ recoveryCode: reset.recoveryCode, expiresAt: new Date(reset.expiresAt).toISOString() }, 200);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["communities"],
    summary: "Invitations waiting for the caller's email",
    middleware: [authenticated],
    responses: {
      200: json(
        z.object({
          invitations: z.array(z.object({ id: z.string(), community: z.object({ id: z.string(), name: z.string() }), role: Role, expiresAt: z.string() })),
        }),
        "Pending",
      ),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { results } = await c.env.DB.prepare(
      `SELECT i.id, i.role, i.expires_at, c.id AS cid, c.name FROM invitations i JOIN communities c ON c.id = i.community_id
       WHERE i.email = ? AND i.accepted_at IS NULL AND i.expires_at > ? ORDER BY i.created_at DESC`,
    )
      .bind(session.user.email, Date.now())
      .all<{ id: string; role: "admin" | "member"; expires_at: number; cid: string; name: string }>();
    return c.json(
      {
        invitations: results.map((r) => ({ id: r.id, community: { id: r.cid, name: r.name }, role: r.role, expiresAt: new Date(r.expires_at).toISOString() })),
      },
      200,
    );
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/accept",
    tags: ["communities"],
    summary: "Join a community by accepting its invitation (the invitee, fully logged in)",
    middleware: [authenticated],
    request: { params: z.object({ id: z.string().max(64) }) },
    responses: { 200: json(z.object({ community: z.object({ id: z.string(), name: z.string(), role: Role }) }), "Joined"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const db = c.env.DB;
    const now = Date.now();
    const meta = c.get("meta");
    const id = c.req.valid("param").id;
    // Only the invitee's own, unexpired, unused invitation; anything else is the same 404.
    const [claim] = await db.batch([
      db
        .prepare(
          "UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ? RETURNING community_id, role",
        )
        .bind(now, session.user.id, id, session.user.email, now),
      db
        .prepare(
          `INSERT OR IGNORE INTO memberships (community_id, user_id, role, joined_at)
         SELECT community_id, ?, role, ? FROM invitations WHERE id = ? AND accepted_by = ? AND accepted_at = ?`,
        )
        .bind(session.user.id, now, id, session.user.id, now),
      db
        .prepare(
          `INSERT INTO events (id, user_id, type, at, ip, user_agent, data)
         SELECT ?, ?, 'invitation_accepted', ?, ?, ?, json_object('communityId', community_id) FROM invitations WHERE id = ? AND accepted_by = ? AND accepted_at = ?`,
        )
        .bind(newId(), session.user.id, now, meta.ip, meta.userAgent, id, session.user.id, now),
    ]);
    const row = claim?.results[0] as { community_id: string } | undefined;
    if (!row) throw new AppError("not_found", "No such invitation");
    const joined = await db
      .prepare("SELECT c.id, c.name, m.role FROM memberships m JOIN communities c ON c.id = m.community_id WHERE m.community_id = ? AND m.user_id = ?")
      .bind(row.community_id, session.user.id)
      .first<{ id: string; name: string; role: "admin" | "member" }>();
    if (!joined) throw new AppError("not_found", "No such invitation");
    return c.json({ community: joined }, 200);
  },
);
