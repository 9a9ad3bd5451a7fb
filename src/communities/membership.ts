import type { MiddlewareHandler } from "hono";
import { sessionOf } from "../auth/session-middleware";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { membershipOf } from "./store";

/**
 * Admits admins of the community in the path. Someone outside it gets the same
 * 404 as a community that does not exist; a plain member gets 403.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session = sessionOf(c);
  const cid = c.req.param("cid") ?? "";
  const row = await membershipOf(c.env.DB, cid, session.user.id);
  if (!row) throw new AppError("not_found", "No such community");
  if (row.role !== "admin") throw new AppError("forbidden", "Only the community's admins can do this");
  await next();
};
