import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
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
          user: User,
          stage: z.enum(["second_factor", "recovery", "enrollment", "authenticated"]),
          communities: z.array(z.object({ id: z.string(), name: z.string(), role: z.enum(["admin", "member"]) })),
          twoFactor: z.object({ enabled: z.boolean(), preferred: z.enum(["totp", "webauthn"]).nullable(), requiredBy: z.string().optional() }),
        }),
        "The caller",
      ),
      ...problems(401, 403),
    },
  }),
  async (c) => c.json(await meView(c.env.DB, sessionOf(c)), 200),
);
