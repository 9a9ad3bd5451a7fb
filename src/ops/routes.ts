import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { OPERATOR_ACTOR } from "../audit/events";
import { findUserByEmail } from "../auth/store";
import { coAdminsOf } from "../communities/store";
import type { AppEnv } from "../env";
import { noticeRecipient } from "../guard/reset";
import { guardFor } from "../guard/user-guard";
import { callerFor } from "../http/caller";
import { AppError } from "../http/errors";
import { Email, json, jsonBody, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { storedLang } from "../notify/language";
import { requireOperator } from "./operator-auth";

/** What the service's operator can do for a user who has no community admin (docs/deploy.md "Operator recovery"). */
export const opsRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

opsRoutes.openapi(
  createRoute({
    method: "post",
    path: "/reset-2fa",
    tags: ["ops"],
    summary: "Reset a user's two-factor authentication as the service's operator (Bearer OPS_TOKEN)",
    description:
      "Off (404) unless the Worker has the secret OPS_TOKEN (32 characters or more: a weaker one also counts wrong tokens for all callers together, docs/deploy.md). The same reset as an admin's: every method and backup code removed, every session ended, one recovery code valid once for 24 hours; the user's event names the actor `operator` and the user is emailed, and so is every other admin of each community the user administers. A missing or wrong token gets 401 unauthenticated; attempts are throttled per client address (429). An unknown email gets 404 not_found.",
    middleware: [requireOperator],
    request: jsonBody(z.object({ email: Email })),
    responses: {
      200: json(z.object({ recoveryCode: z.string(), expiresAt: z.string() }), "Pass the code on through a channel you have verified"),
      ...problems(400, 401, 404, 413, 415, 429),
    },
  }),
  async (c) => {
    const user = await findUserByEmail(c.env.DB, c.req.valid("json").email);
    if (!user) throw new AppError("not_found", "No account has this email");
    // A reset admin can be taken over as an admin-to-admin reset can: every other admin of each community they
    // administer is told (docs/email.md, admin_reset_notice), each in their stored language, else this request's.
    const requestLang = c.get("meta").lang;
    const notify = (await coAdminsOf(c.env.DB, user.id)).map((a) => noticeRecipient(a, requestLang));
    // The user is emailed in their own language, not in that of the operator's script (docs/email.md "Which language").
    const reset = await guardFor(c.env, user.id).adminReset(
      callerFor(c, { id: user.id, email: user.email, name: user.name }, storedLang(user.lang)),
      { id: OPERATOR_ACTOR, name: "the service's operator", stage: "authenticated" },
      notify,
    );
    if (!reset.ok) throw new AppError("internal", "The reset did not happen");
    return c.json({ recoveryCode: reset.recoveryCode, expiresAt: new Date(reset.expiresAt).toISOString() }, 200);
  },
);
