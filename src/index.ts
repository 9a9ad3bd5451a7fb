import { OpenAPIHono } from "@hono/zod-openapi";
import { meRoutes } from "./auth/me";
import { authRoutes } from "./auth/routes";
import { loadSession } from "./auth/session";
import { memberRoutes } from "./communities/member-routes";
import { communityRoutes, invitationRoutes } from "./communities/routes";
import type { AppEnv } from "./env";
import { AppError, problem, toAppError } from "./http/errors";
import { apiSecurityHeaders, limitBody, refuseCrossSite, requestMeta, requireJSONBody } from "./http/middleware";
import { validationHook } from "./http/validation";
import { securityRoutes } from "./security/routes";

export { Throttle } from "./auth/throttle";
export { UserGuard } from "./guard/user-guard";

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

// Order matters: the contract answers 413, then csrf, then 415, then session checks.
app.use("/api/*", apiSecurityHeaders, requestMeta, limitBody, refuseCrossSite, requireJSONBody, loadSession);

app.route("/api/auth", authRoutes);
app.route("/api", meRoutes);
app.route("/api/security", securityRoutes);
app.route("/api/communities", communityRoutes);
app.route("/api/communities", memberRoutes);
app.route("/api/invitations", invitationRoutes);

app.doc31("/api/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Edge 2FA", version: "0.1.0", description: "Two-factor authentication at the edge. Errors are RFC 9457 problem+json." },
});

app.notFound((_c) => problem(new AppError("not_found", "No such endpoint")));

app.onError((err, c) => {
  const appError = toAppError(err);
  // An AppError("internal") was thrown on purpose and logged where it was thrown (with no request text).
  if (appError.code === "internal" && !(err instanceof AppError)) {
    // The error's class and message only: request bodies and secrets never reach the log.
    console.error(
      `internal error on ${c.req.method} ${new URL(c.req.url).pathname}: ${err instanceof Error ? err.name : typeof err}: ${err instanceof Error ? err.message.slice(0, 200) : ""}`,
    );
  }
  return problem(appError);
});

export default app;
