import { OpenAPIHono } from "@hono/zod-openapi";
import { emailRoutes } from "./auth/email-routes";
import { meRoutes } from "./auth/me-routes";
import { handleResetBatch } from "./auth/password-reset-queue";
import { authRoutes } from "./auth/routes";
import { loadSession } from "./auth/session-middleware";
import { memberRoutes } from "./communities/member-routes";
import { policyRoutes } from "./communities/policy-routes";
import { communityRoutes } from "./communities/routes";
import type { AppEnv, Env } from "./env";
import { AppError } from "./http/errors";
import { apiSecurityHeaders, limitBody, refuseCrossSite, requestIds, requestMeta, requireJSONBody } from "./http/middleware";
import { answerError, problem } from "./http/problem";
import { validationHook } from "./http/validation";
import { invitationRoutes } from "./invitations/routes";
import { opsRoutes } from "./ops/routes";
import { keyRoutes } from "./security/key-routes";
import { passwordRoutes } from "./security/password-routes";
import { securityRoutes } from "./security/routes";
import { sessionRoutes } from "./security/session-routes";
import { trustedBrowserRoutes } from "./security/trusted-routes";

export { Throttle } from "./auth/throttle";
export { UserGuard } from "./guard/user-guard";

export const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

// Order matters: the contract answers 413, then csrf, then 415, then session checks.
app.use("/api/*", ...apiSecurityHeaders, requestIds, requestMeta, limitBody, refuseCrossSite, requireJSONBody, loadSession);

app.route("/api/auth", authRoutes);
app.route("/api/auth", emailRoutes);
app.route("/api", meRoutes);
app.route("/api/security", securityRoutes);
app.route("/api/security", passwordRoutes);
app.route("/api/security/webauthn", keyRoutes);
app.route("/api/security/sessions", sessionRoutes);
app.route("/api/security/trusted-browsers", trustedBrowserRoutes);
app.route("/api/communities", communityRoutes);
app.route("/api/communities", memberRoutes);
app.route("/api/communities", policyRoutes);
app.route("/api", invitationRoutes);
app.route("/api/ops", opsRoutes);

app.doc31("/api/openapi.json", {
  openapi: "3.1.0",
  info: { title: "Edge 2FA", version: "0.1.0", description: "Two-factor authentication at the edge. Errors are RFC 9457 problem+json." },
});

app.notFound((c) => problem(new AppError("not_found", "No such endpoint"), c.get("requestId")));
app.onError(answerError);

/** The requests, and the one queue this Worker consumes: password resets, handled after their answer (src/auth/password-reset-queue.ts). */
export default {
  fetch: app.fetch,
  queue: (batch, env) => handleResetBatch(batch, env),
} satisfies ExportedHandler<Env>;
