import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { recentEvents } from "../audit/events";
import { confirmPassword } from "../auth/reauth";
import { requireRecentReauth, requireStage, sessionOf } from "../auth/session-middleware";
import { renewAfterReauth, sessionMoved, setSessionCookie } from "../auth/session-store";
import { requiredByOf } from "../communities/store";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { refused } from "../http/refusals";
import { json, jsonBody, Method, MethodType, Name, Password, problems, TOTPCode } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { describeUserAgent } from "../notify/user-agent";
import { finishEnrollment, startAuthenticatorApp } from "./enrollment";

export const securityRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");
/** Enrollment calls also accept an `enrollment` session, which counts as freshly re-entered. */
const enrolling = requireStage("authenticated", "enrollment");

securityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reauth",
    tags: ["security"],
    summary: "Re-enter the password; opens 10 minutes for sensitive changes",
    middleware: [authenticated],
    request: jsonBody(z.object({ password: Password })),
    responses: { 204: { description: "Confirmed" }, ...problems(400, 401, 403, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    await confirmPassword(c, session, c.req.valid("json").password);
    const { token, statement } = renewAfterReauth(c.env.DB, session, Date.now());
    const result = await statement.run();
    if (!sessionMoved(result)) throw new AppError("unauthenticated", "This session has ended; log in again");
    setSessionCookie(c, token, session.stage);
    return c.body(null, 204);
  },
);

const SecurityView = z.object({
  enabled: z.boolean(),
  preferred: MethodType.nullable(),
  methods: z.array(Method),
  backupCodes: z.object({ remaining: z.number().int() }),
  events: z.array(
    z
      .object({
        type: z.string(),
        at: z.string(),
        ip: z.string().optional(),
        userAgent: z.string().optional(),
        browser: z.string().optional().openapi({ description: "The browser in words, e.g. Firefox on Linux, as the sessions list names it; with userAgent" }),
      })
      .passthrough(),
  ),
});

securityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["security"],
    summary: "Two-factor state, methods, backup codes left and recent events",
    middleware: [authenticated],
    responses: { 200: json(SecurityView, "The Security page"), ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const [summary, recent] = await Promise.all([guardFor(c.env, session.user.id).summary(), recentEvents(c.env.DB, session.user.id)]);
    // English words from the one parser the sessions list and remembered browsers use: the page says them in its language.
    const events = recent.map((e) => (e.userAgent ? { ...e, browser: describeUserAgent(e.userAgent) } : e));
    return c.json(
      { enabled: summary.enabled, preferred: summary.preferred, methods: summary.methods, backupCodes: { remaining: summary.backupCodesRemaining }, events },
      200,
    );
  },
);

securityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/totp",
    tags: ["security"],
    summary: "Start adding an authenticator app (sudo, enrollment)",
    middleware: [enrolling, requireRecentReauth],
    request: { body: { content: { "application/json": { schema: z.object({ name: Name.optional() }) } }, required: false } },
    responses: {
      201: json(z.object({ id: z.string(), secret: z.string(), uri: z.string(), qrSvg: z.string() }), "Scan and confirm within 10 minutes"),
      ...problems(400, 401, 403),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    // The body is optional: without a JSON content type there is nothing to validate.
    const name = (c.req.valid("json") as { name?: string } | undefined)?.name ?? "Authenticator app";
    const enrollment = await startAuthenticatorApp(c.env, guardFor(c.env, session.user.id), callerOf(c, session.user, session), name);
    return c.json(enrollment, 201);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/totp/{id}/confirm",
    tags: ["security"],
    summary: "Confirm an authenticator app with a code it shows (sudo, enrollment)",
    middleware: [enrolling, requireRecentReauth],
    request: { params: z.object({ id: z.string().max(64) }), ...jsonBody(z.object({ code: TOTPCode })) },
    responses: {
      200: json(z.object({ method: Method, backupCodes: z.array(z.string()).optional() }), "Confirmed"),
      ...problems(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).confirmTOTP(callerOf(c, session.user, session), c.req.valid("param").id, c.req.valid("json").code);
    if (!outcome.ok) refused(outcome);
    return finishEnrollment(c, session, outcome);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/methods/{id}",
    tags: ["security"],
    summary: "Rename a method (sudo)",
    middleware: [authenticated, requireRecentReauth],
    request: { params: z.object({ id: z.string().max(64) }), ...jsonBody(z.object({ name: Name })) },
    responses: { 200: json(z.object({ method: Method }), "Renamed"), ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).renameMethod(callerOf(c, session.user, session), c.req.valid("param").id, c.req.valid("json").name);
    if (!outcome.ok) refused(outcome);
    return c.json({ method: outcome.method }, 200);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/methods/{id}",
    tags: ["security"],
    summary: "Remove a method (sudo); ends the user's other sessions",
    middleware: [authenticated, requireRecentReauth],
    request: { params: z.object({ id: z.string().max(64) }) },
    responses: { 204: { description: "Removed" }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).removeMethod(callerOf(c, session.user, session), c.req.valid("param").id);
    if (!outcome.ok) refused(outcome);
    return c.body(null, 204);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/backup-codes",
    tags: ["security"],
    summary: "Ten new backup codes; every older one stops working (sudo)",
    middleware: [authenticated, requireRecentReauth],
    responses: { 200: json(z.object({ codes: z.array(z.string()) }), "New codes, shown once"), ...problems(401, 403, 409) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).regenerateBackupCodes(callerOf(c, session.user, session));
    if (!outcome.ok) refused(outcome);
    return c.json({ codes: outcome.codes }, 200);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "put",
    path: "/preferred",
    tags: ["security"],
    summary: "Choose which type of method login asks for first",
    middleware: [authenticated],
    request: jsonBody(z.object({ method: MethodType })),
    responses: { 200: json(z.object({ preferred: MethodType }), "Saved"), ...problems(400, 401, 403, 409) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).setPreferred(callerOf(c, session.user, session), c.req.valid("json").method);
    if (!outcome.ok) refused(outcome);
    return c.json({ preferred: outcome.preferred }, 200);
  },
);

securityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/disable",
    tags: ["security"],
    summary: "Turn two-factor authentication off with the current password",
    middleware: [authenticated],
    request: jsonBody(z.object({ password: Password })),
    responses: { 200: json(z.object({ enabled: z.literal(false) }), "Disabled"), ...problems(400, 401, 403, 409, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    // Chosen over "allow, then enroll again at the next login": a member never drops below what a community requires (docs/security.md).
    if ((await requiredByOf(c.env.DB, session.user.id)) !== null) {
      throw new AppError("two_factor_required", "A community you belong to requires two-factor authentication; leave it before turning 2FA off", {
        status: 409,
      });
    }
    await confirmPassword(c, session, c.req.valid("json").password);
    const outcome = await guardFor(c.env, session.user.id).disable(callerOf(c, session.user, session));
    if (!outcome.ok) refused(outcome);
    return c.json({ enabled: false as const }, 200);
  },
);
