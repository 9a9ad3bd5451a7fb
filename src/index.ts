import { OpenAPIHono } from "@hono/zod-openapi";
import { routePath } from "hono/route";
import { meRoutes } from "./auth/me-routes";
import { authRoutes } from "./auth/routes";
import { loadSession } from "./auth/session-middleware";
import { memberRoutes } from "./communities/member-routes";
import { communityRoutes } from "./communities/routes";
import type { AppEnv } from "./env";
import { AppError } from "./http/errors";
import { apiSecurityHeaders, limitBody, refuseCrossSite, requestMeta, requireJSONBody } from "./http/middleware";
import { problem, toAppError } from "./http/problem";
import { validationHook } from "./http/validation";
import { invitationRoutes } from "./invitations/routes";
import { keyRoutes } from "./security/key-routes";
import { securityRoutes } from "./security/routes";

export { Throttle } from "./auth/throttle";
export { UserGuard } from "./guard/user-guard";

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

// Order matters: the contract answers 413, then csrf, then 415, then session checks.
app.use("/api/*", apiSecurityHeaders, requestMeta, limitBody, refuseCrossSite, requireJSONBody, loadSession);

app.route("/api/auth", authRoutes);
app.route("/api", meRoutes);
app.route("/api/security", securityRoutes);
app.route("/api/security/webauthn", keyRoutes);
app.route("/api/communities", communityRoutes);
app.route("/api/communities", memberRoutes);
app.route("/api", invitationRoutes);

app.doc31("/api/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Edge 2FA", version: "0.1.0", description: "Two-factor authentication at the edge. Errors are RFC 9457 problem+json." },
});

app.notFound((_c) => problem(new AppError("not_found", "No such endpoint")));

/** Methods a route can be registered for; any other spelling is logged as "other". */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

app.onError((err, c) => {
  const appError = toAppError(err);
  // An AppError("internal") was thrown on purpose and logged where it was thrown (fixed text, src/http/public-origin.ts).
  if (appError.code === "internal" && !(err instanceof AppError)) {
    // Fixed text only: the error's class and the route pattern as registered (`/api/communities/:cid/…`).
    // Never its message (a driver may echo the values it was given), the path (ids, mistyped tokens)
    // or anything else the request carried: a log line must never hold a password, code or token.
    const method = METHODS.has(c.req.method) ? c.req.method : "other";
    console.error(`internal error in ${method} ${routePath(c, -1)}: ${err.constructor.name}`);
  }
  return problem(appError);
});

export default app;
