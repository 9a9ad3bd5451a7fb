import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { json, problems, User } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { requireStage, sessionOf } from "./session-middleware";
import { meView } from "./store";

export const meRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

meRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me",
    tags: ["auth"],
    summary: "Who is logged in, in which stage",
    middleware: [requireStage("authenticated", "enrollment")],
    responses: {
      200: json(
        z.object({
          user: User.extend({ emailVerified: z.boolean() }),
          stage: z.enum(["second_factor", "recovery", "enrollment", "authenticated"]),
          communities: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(["admin", "member"]) })),
          twoFactor: z.object({ enabled: z.boolean(), preferred: z.enum(["totp", "webauthn"]).nullable(), requiredBy: z.string().optional() }),
        }),
        "The caller",
      ),
      ...problems(401, 403),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    // Whether the email is proven lives in the guard (docs/architecture.md "Where each fact lives"), asked beside D1's read.
    const [view, emailVerified] = await Promise.all([meView(c.env.DB, session), guardFor(c.env, session.user.id).emailVerified()]);
    return c.json({ ...view, user: { ...view.user, emailVerified } }, 200);
  },
);
