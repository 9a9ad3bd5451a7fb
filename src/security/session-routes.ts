import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireStage, sessionOf } from "../auth/session-middleware";
import { clearSessionCookie } from "../auth/session-store";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { AppError } from "../http/errors";
import { json, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { endOtherSessions, endSession, sessionsOf } from "./sessions";

/** The account's sessions (`/api/security/sessions`): listed and ended by an opaque id (docs/api.md). */
export const sessionRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");

const ListedSession = z
  .object({
    id: z.string(),
    current: z.boolean(),
    createdAt: z.string(),
    lastSeenAt: z.string(),
    ip: z.string().nullable(),
    browser: z.string(),
  })
  .openapi("Session");

/** Public ids are 128-bit base64url (22 characters; 32 hex for rows older than them): anything else is malformed. */
const SessionId = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, { message: "is not a session id" }) });

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["security"],
    summary: "The account's fully logged-in sessions, newest first",
    middleware: [authenticated],
    responses: { 200: json(z.object({ sessions: z.array(ListedSession) }), "Sessions"), ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    return c.json({ sessions: await sessionsOf(c.env.DB, session, Date.now()) }, 200);
  },
);

sessionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/revoke-others",
    tags: ["security"],
    summary: "End every session of the account but this one",
    middleware: [authenticated],
    responses: { 204: { description: "Every other session ended" }, ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    await endOtherSessions(c.env.DB, session, c.get("meta"), Date.now());
    // Half sessions among them are in the guard too (docs/architecture.md "The half session lives in the guard").
    await guardFor(c.env, session.user.id).forgetHalfSessions();
    return c.body(null, 204);
  },
);

sessionRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["security"],
    summary: "End one session at once (this one: log out)",
    middleware: [authenticated],
    request: { params: SessionId },
    responses: { 204: { description: "Ended" }, ...problems(400, 401, 403, 404) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const ended = await endSession(c.env.DB, session, c.req.valid("param").id, c.get("meta"), Date.now());
    if (ended === "none") throw new AppError("not_found", "No such session");
    if (ended === "current") clearSessionCookie(c);
    return c.body(null, 204);
  },
);
