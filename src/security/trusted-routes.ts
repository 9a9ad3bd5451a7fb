import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireStage, sessionOf } from "../auth/session-middleware";
import { clearTrustedCookie, trustedHashFor } from "../auth/trusted-cookie";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { refused } from "../http/refusals";
import { json, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { describeUserAgent } from "../notify/user-agent";

/** The Security page's remembered browsers: list, forget one, forget all (docs/security.md "Trusted browsers"). */
export const trustedBrowserRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const authenticated = requireStage("authenticated");

const TrustedBrowser = z
  .object({
    id: z.string(),
    current: z.boolean().openapi({ description: "This request came from that browser" }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string(),
    ip: z.string().nullable().openapi({ description: "Where it was last used from (or remembered, if never used since)" }),
    browser: z.string().openapi({ description: "The browser in words, e.g. Firefox on Linux" }),
    userAgent: z.string().nullable().openapi({ description: "The User-Agent it sent, for pages that name the browser in their own language" }),
  })
  .openapi("TrustedBrowser");

trustedBrowserRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["security"],
    summary: "Browsers remembered for 30 days, newest first",
    middleware: [authenticated],
    responses: { 200: json(z.object({ browsers: z.array(TrustedBrowser) }), "Remembered browsers"), ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).trustedBrowsers(callerOf(c, session.user, session), trustedHashFor(c, session.user.id));
    if (!outcome.ok) refused(outcome);
    const browsers = outcome.browsers.map((b) => ({ ...b, browser: describeUserAgent(b.userAgent) }));
    return c.json({ browsers }, 200);
  },
);

trustedBrowserRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["security"],
    summary: "Forget one remembered browser: its next login asks for the second step",
    middleware: [authenticated],
    request: { params: z.object({ id: z.string().max(64) }) },
    responses: { 204: { description: "Forgotten" }, ...problems(401, 403, 404) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const outcome = await guardFor(c.env, session.user.id).forgetTrustedBrowser(callerOf(c, session.user, session), c.req.valid("param").id);
    if (!outcome.ok && outcome.reason === "not_found") throw new AppError("not_found", "No such remembered browser");
    if (!outcome.ok) refused(outcome);
    if (outcome.hash === trustedHashFor(c, session.user.id)) clearTrustedCookie(c);
    return c.body(null, 204);
  },
);

trustedBrowserRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/",
    tags: ["security"],
    summary: "Forget every remembered browser",
    middleware: [authenticated],
    responses: { 204: { description: "All forgotten" }, ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    await guardFor(c.env, session.user.id).forgetTrustedBrowsers(callerOf(c, session.user, session), "forget_all");
    if (trustedHashFor(c, session.user.id)) clearTrustedCookie(c);
    return c.body(null, 204);
  },
);
