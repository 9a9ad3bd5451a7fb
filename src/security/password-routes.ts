import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { mintDeviceToken, readDeviceCookie, setDeviceCookie } from "../auth/device";
import { checkPassword } from "../auth/password-check";
import { hashPassword, passwordGeneration, passwordParams } from "../auth/passwords";
import { requireStage, sessionOf } from "../auth/session-middleware";
import { renewAtEpoch, sessionMoved, setSessionCookie } from "../auth/session-store";
import { findUserByEmail } from "../auth/store";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { refused } from "../http/refusals";
import { jsonBody, NewPassword, Password, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";

/** The password form of the Security page. Mounted at `/api/security`. */
export const passwordRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const ChangePasswordBody = z.object({ currentPassword: Password, newPassword: NewPassword }).openapi("ChangePasswordRequest");

passwordRoutes.openapi(
  createRoute({
    method: "post",
    path: "/password",
    tags: ["security"],
    summary: "Change the password: every other session ends, this one continues under a new token",
    middleware: [requireStage("authenticated")],
    request: jsonBody(ChangePasswordBody),
    responses: { 204: { description: "Changed" }, ...problems(400, 401, 403, 413, 415, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { currentPassword, newPassword } = c.req.valid("json");
    // The current password is checked as a login is: a wrong one spends a token of the email's (or this device's) and the client's buckets.
    const { device } = await checkPassword(c.env, c.get("meta"), session.user.email, currentPassword, findUserByEmail, readDeviceCookie(c));
    const passwordHash = await hashPassword(newPassword, passwordParams(c.env));
    const outcome = await guardFor(c.env, session.user.id).changePassword(callerOf(c, session.user, session), passwordHash);
    if (!outcome.ok) refused(outcome);
    const renewed = renewAtEpoch(c.env.DB, session, outcome.epoch);
    if (!sessionMoved(await renewed.statement.run())) throw new AppError("unauthenticated", "This session has ended; log in with your new password");
    setSessionCookie(c, renewed.token, session.stage);
    // The new hash's salt makes every device token worthless (docs/security.md R10d). This browser was one of the
    // account's devices and proved the password: it stays one, for the new password; any other browser is new again.
    if (device) setDeviceCookie(c, await mintDeviceToken(c.env, session.user.email, passwordGeneration(passwordHash)));
    return c.body(null, 204);
  },
);
