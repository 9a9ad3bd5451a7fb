import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { json, problems, User } from "../http/schemas";
import { validationHook } from "../http/validation";
import { requireStage, type Session, sessionOf } from "./session";

export const meRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

export async function meView(db: D1Database, session: Session) {
  const [communities, user] = await db.batch([
    db
      .prepare(
        `SELECT c.id, c.name, m.role FROM memberships m JOIN communities c ON c.id = m.community_id
         WHERE m.user_id = ? ORDER BY c.name`,
      )
      .bind(session.user.id),
    db.prepare("SELECT two_factor_enabled, preferred FROM users WHERE id = ?").bind(session.user.id),
  ]);
  const row = (user?.results[0] ?? { two_factor_enabled: 0, preferred: null }) as { two_factor_enabled: number; preferred: "totp" | "webauthn" | null };
  return {
    user: session.user,
    stage: session.stage,
    communities: (communities?.results ?? []) as { id: string; name: string; role: "admin" | "member" }[],
    twoFactor: { enabled: row.two_factor_enabled === 1, preferred: row.preferred },
  };
}

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
          twoFactor: z.object({ enabled: z.boolean(), preferred: z.enum(["totp", "webauthn"]).nullable() }),
        }),
        "The caller",
      ),
      ...problems(401, 403),
    },
  }),
  async (c) => c.json(await meView(c.env.DB, sessionOf(c)), 200),
);
