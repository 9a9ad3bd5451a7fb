import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { eventStatement, securityEvent } from "../audit/events";
import { clientAddress } from "../auth/client-address";
import { requireStage, sessionOf } from "../auth/session-middleware";
import { langOfEmail } from "../auth/store";
import { takeSlots, tryTakeTokens } from "../auth/throttle";
import { requireAdmin } from "../communities/membership";
import { communityName, hasMemberWithEmail } from "../communities/store";
import { trustedBrowsersAllowed } from "../communities/trusted-policy";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { publicOrigin } from "../http/public-origin";
import { Cid, Email, json, jsonBody, problems, Role } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { constantTimeEqual } from "../lib/constant-time";
import { formatToken, newSecret, parseToken, secretHash } from "../lib/email-token";
import { utf8 } from "../lib/encoding";
import { newId } from "../lib/random";
import { sha256Hex } from "../lib/sha256";
import type { WindowPolicy } from "../lib/sliding-window";
import { prepare } from "../lib/statement";
import type { BucketPolicy } from "../lib/token-bucket";
import { invitationMail } from "../notify/templates";
import { acceptInvitation, invitationsFor, openInvitation, pendingInvitations, replaceInvitation } from "./store";

/** Invitations: an admin invites an email into a community; the account joins only by accepting. Mounted at `/api`. */
export const invitationRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Invitations are valid for 7 days (docs/api.md). */
export const INVITATION_TTL_MS = 7 * DAY;
/** docs/api.md: at most 20 invitations per admin per hour and 100 per community per day. */
export const INVITATIONS_PER_ADMIN: WindowPolicy = { limit: 20, windowMs: HOUR };
export const INVITATIONS_PER_COMMUNITY: WindowPolicy = { limit: 100, windowMs: DAY };
/**
 * Per client address (IPv6 by /64): two admins' hour. Every signup may make a community with its maker as admin,
 * so without it an address that signed up many accounts sent 20 invitations an hour per account, to any address
 * at all (docs/security.md R9n), as resends were before their own client bucket (R8s).
 */
export const INVITATIONS_PER_CLIENT: WindowPolicy = { limit: 40, windowMs: HOUR };

/**
 * Invitation emails to one address, from every sender together: 10, then one every 6 minutes (10 an hour: more
 * than any one person is invited to for real, and room for re-sent invitations). The windows above are
 * the sender's, so each new client address with an account (and the community every signup may make) added
 * 20 an hour to the same inbox (docs/security.md R11o). Past it the invitation is still made and listed to
 * its invitee (`GET /api/invitations`), only not emailed, and the admin's answer says so (`emailed: false`, the
 * one field beyond the contract's answer, there only then), so
 * that an admin whose invitation someone else's flood kept from the inbox can tell the person another way.
 */
export const INVITATION_MAIL_POLICY: BucketPolicy = { capacity: 10, refillMs: 6 * 60 * 1000 };

/** The counts that bound invitations: per admin (an hour), per community (a day) and per client address (an hour), in Throttle objects. */
export function invitationWindows(adminId: string, cid: string, client: string) {
  return [
    { key: `invitations-admin:${adminId}`, policy: INVITATIONS_PER_ADMIN },
    { key: `invitations-community:${cid}`, policy: INVITATIONS_PER_COMMUNITY },
    { key: `invitations-client:${client}`, policy: INVITATIONS_PER_CLIENT },
  ];
}

/** Optional: the token from the invitation email's link (`/invitations#token=…`). */
const AcceptBody = z.object({ token: z.string().min(1).max(200) }).openapi("AcceptInvitationRequest");

const Invitation = z.object({ id: z.string(), email: z.string(), role: Role, expiresAt: z.string() }).openapi("Invitation");

invitationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/communities/{cid}/invitations",
    tags: ["communities"],
    summary: "Invite an email; the account joins only by accepting (admins)",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid, ...jsonBody(z.object({ email: Email, role: Role })) },
    responses: {
      201: json(
        z.object({
          invitation: Invitation,
          emailed: z.literal(false).optional().openapi({
            description:
              "Added by this project, only when it is false: the address got its share of invitation emails lately (docs/security.md R11o); the invitation stands and is listed to its invitee",
          }),
        }),
        "Invited",
      ),
      ...problems(400, 401, 403, 404, 409, 429),
    },
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
    const release = await takeSlots(
      c.env,
      invitationWindows(session.user.id, cid, clientAddress(c.get("meta").ip)),
      now,
      "Too many invitations; wait before sending more",
    );
    if (await hasMemberWithEmail(db, cid, email)) {
      // Nothing is sent: the slots go back. Any later failure keeps them (an email may be on its way).
      await release();
      throw new AppError("already_member", "This person is already a member");
    }
    const invitation = { id: newId(), email, role, expiresAt: now + INVITATION_TTL_MS };
    // The link's token names the invitation; only its hash is kept with it, and the admin's guard seals it until delivery.
    const secret = newSecret();
    await replaceInvitation(db, cid, invitation, session.user.id, now, secretHash(secret));
    const sent = securityEvent("invitation_sent", session.user.id, c.get("meta"), now, { data: { communityId: cid, role } });
    const mailable = await tryTakeTokens(c.env, [{ key: `invitation-mail:${sha256Hex(email)}`, policy: INVITATION_MAIL_POLICY }], now);
    const answer = { invitation: { ...invitation, expiresAt: new Date(invitation.expiresAt).toISOString() } };
    if (!mailable.ok) {
      await prepare(db, eventStatement(sent)).run();
      // The admin is told, so they can tell the person another way: only an address's recent invitation count is said.
      return c.json({ ...answer, emailed: false as const }, 201);
    }
    // The email goes through the inviting admin's guard: recorded, then delivered with retries. Its words are read
    // only for an email that goes: the community's name, and the invitee's language if the address has an account
    // that logged in, else the inviter's request's (docs/email.md).
    const [name, stored] = await Promise.all([communityName(db, cid), langOfEmail(db, email)]);
    const mail = invitationMail(
      { communityName: name ?? "", inviterName: session.user.name, role, expiresAt: invitation.expiresAt, origin, at: now },
      stored ?? c.get("meta").lang,
    );
    await guardFor(c.env, session.user.id).sendMail(
      callerOf(c, session.user),
      { to: email, ...mail, template: "invitation", token: formatToken(invitation.id, secret) },
      { statements: [], events: [sent] },
    );
    // The usual answer is the contract's, field for field.
    return c.json(answer, 201);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/communities/{cid}/invitations",
    tags: ["communities"],
    summary: "Pending invitations (admins)",
    middleware: [authenticated, requireAdmin],
    request: { params: Cid },
    responses: { 200: json(z.object({ invitations: z.array(Invitation) }), "Pending"), ...problems(401, 403, 404) },
  }),
  async (c) => {
    const pending = await pendingInvitations(c.env.DB, c.req.valid("param").cid, Date.now());
    return c.json({ invitations: pending.map((i) => ({ ...i, expiresAt: new Date(i.expiresAt).toISOString() })) }, 200);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/invitations",
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
    const waiting = await invitationsFor(c.env.DB, sessionOf(c).user.email, Date.now());
    return c.json({ invitations: waiting.map((i) => ({ ...i, expiresAt: new Date(i.expiresAt).toISOString() })) }, 200);
  },
);

invitationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/invitations/{id}/accept",
    tags: ["communities"],
    summary: "Join a community by accepting its invitation (the invitee, fully logged in)",
    middleware: [authenticated],
    request: {
      params: z.object({ id: z.string().max(64) }),
      body: { content: { "application/json": { schema: AcceptBody } }, required: false },
    },
    responses: {
      200: json(z.object({ community: z.object({ id: z.string(), name: z.string(), role: Role }) }), "Joined"),
      ...problems(400, 401, 403, 404, 413, 415),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { id } = c.req.valid("param");
    const token = (c.req.valid("json") as z.infer<typeof AcceptBody> | undefined)?.token;
    const now = Date.now();
    // Only the invitee's own, unexpired, unused invitation; anything else is the same 404.
    const open = await openInvitation(c.env.DB, id, session.user.email, now);
    if (!open) throw new AppError("not_found", "No such invitation");
    const guard = guardFor(c.env, session.user.id);
    let hash: string | null = null;
    if (token !== undefined) {
      // The invitation's own link proves the address: it must name this invitation and match its hash.
      const parsed = parseToken(token);
      if (!parsed || parsed.userId !== id || !open.token_hash || !constantTimeEqual(utf8(parsed.hash), utf8(open.token_hash))) {
        throw new AppError("invalid_token", "This invitation link is not valid: it was used, replaced by a newer invitation, or has expired");
      }
      hash = parsed.hash;
    } else if (!(await guard.emailVerified())) {
      throw new AppError("email_unverified", "Confirm your email address first (the link we sent you), or open the link in the invitation email");
    }
    // A recent leave of this community, remembered by the guard against resets on their way (docs/security.md R13m),
    // no longer holds once the user joins again: forgotten before D1 has the new membership.
    await guard.stayInCommunity(open.community_id);
    const joined = await acceptInvitation(c.env.DB, id, session.user, c.get("meta"), now, hash);
    if (!joined) throw new AppError(hash ? "invalid_token" : "not_found", hash ? "This invitation link was just used" : "No such invitation");
    if (hash) await guard.markEmailVerified(callerOf(c, session.user), "invitation");
    // A community that forbids remembered browsers revokes them on joining, as its policy change does for its
    // members: checking at login alone would let them skip the second step again once the user left.
    if (!(await trustedBrowsersAllowed(c.env.DB, session.user.id))) await guard.forgetTrustedBrowsers(callerOf(c, session.user), "community_policy");
    return c.json({ community: joined }, 200);
  },
);
