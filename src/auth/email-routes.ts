import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { communitiesAdministeredByOthers } from "../communities/store";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { publicOrigin } from "../http/public-origin";
import { Email, json, jsonBody, NewPassword, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { parseToken } from "../lib/email-token";
import { sha256Hex } from "../lib/sha256";
import type { SessionUser } from "../session";
import { clientAddress } from "./client-address";
import { mintDeviceToken, setDeviceCookie } from "./device";
import { RESET_CLIENT_POLICY, RESET_EMAIL_POLICY, VERIFY_RESEND_CLIENT_POLICY, VERIFY_RESEND_POLICY } from "./limits";
import { enqueueReset, resetRequest } from "./password-reset-queue";
import { hashPassword, passwordGeneration, passwordParams } from "./passwords";
import { requireStage, sessionOf } from "./session-middleware";
import { findUserById } from "./store";
import { takeTokens } from "./throttle";
import { sendVerificationLink } from "./verification";

/**
 * The links emailed to prove an address, replace a forgotten password and let
 * the owner's browser in (docs/api.md "Email ownership, passwords and
 * sessions"). Mounted at `/api/auth`. A token names its user
 * (src/lib/email-token.ts); the user's guard holds its hash and claims it once.
 */
export const emailRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

/** A link's token as posted by the page that opened it; its shape is checked by parseToken (400 invalid_token). */
const Token = z.string().min(1).max(200).openapi({ example: "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" });

function invalidToken(): AppError {
  return new AppError("invalid_token", "This link is not valid: it was used, replaced by a newer one, or has expired");
}

/** The user a token names and its hash, or 400 invalid_token; nothing is changed on the way. */
/** `generation`: the password generation of the row read (src/auth/device.ts), for the device link's token. */
async function tokenOwner(db: D1Database, token: string): Promise<{ user: SessionUser; hash: string; generation: string }> {
  const parsed = parseToken(token);
  if (!parsed) throw invalidToken();
  const row = await findUserById(db, parsed.userId);
  if (!row) throw invalidToken();
  return { user: { id: row.id, email: row.email, name: row.name }, hash: parsed.hash, generation: passwordGeneration(row.password_hash) };
}

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/verify-email",
    tags: ["auth"],
    summary: "Prove the account's email with the token from the emailed link (no session needed)",
    request: jsonBody(z.object({ token: Token }).openapi("VerifyEmailRequest")),
    responses: { 200: json(z.object({ emailVerified: z.literal(true) }), "Verified"), ...problems(400, 413, 415) },
  }),
  async (c) => {
    const { user, hash } = await tokenOwner(c.env.DB, c.req.valid("json").token);
    if (!(await guardFor(c.env, user.id).claimToken(callerOf(c, user), "verify_email", hash))) throw invalidToken();
    return c.json({ emailVerified: true as const }, 200);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/verify-email/resend",
    tags: ["auth"],
    summary: "Email a new verification link; the older one stops working",
    middleware: [requireStage("authenticated")],
    responses: { 204: { description: "Sent (or nothing to send: the email is already verified)" }, ...problems(401, 403, 429) },
  }),
  async (c) => {
    const session = sessionOf(c);
    await takeTokens(
      c.env,
      [
        { key: `verify-resend:${session.user.id}`, policy: VERIFY_RESEND_POLICY },
        { key: `verify-resend-client:${clientAddress(c.get("meta").ip)}`, policy: VERIFY_RESEND_CLIENT_POLICY },
      ],
      Date.now(),
      "Too many links sent; wait before asking again",
    );
    await sendVerificationLink(c, session.user);
    return c.body(null, 204);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/password-reset",
    tags: ["auth"],
    summary: "Email a password-reset link when the email has an account; the answer is the same either way",
    request: jsonBody(z.object({ email: Email }).openapi("PasswordResetRequest")),
    responses: { 202: { description: "Accepted (whether or not the email has an account)" }, ...problems(400, 413, 415, 429) },
  }),
  async (c) => {
    const { email } = c.req.valid("json");
    const meta = c.get("meta");
    // Fails closed before anything is counted when the deployment has no origin for links.
    const origin = publicOrigin(c.env, meta);
    await takeTokens(
      c.env,
      [
        { key: `reset-email:${sha256Hex(email)}`, policy: RESET_EMAIL_POLICY },
        { key: `reset-client:${clientAddress(meta.ip)}`, policy: RESET_CLIENT_POLICY },
      ],
      Date.now(),
      "Too many reset requests; wait before asking again",
    );
    // Every email gets the same work here, one message; the lookup and the link happen in the queue's consumer.
    await enqueueReset(c.env, resetRequest(email, origin, meta, Date.now()));
    return c.body(null, 202);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/password-reset/confirm",
    tags: ["auth"],
    summary: "Set a new password with the emailed link's token; every session ends; does not log in",
    request: jsonBody(z.object({ token: Token, password: NewPassword }).openapi("PasswordResetConfirmRequest")),
    responses: { 204: { description: "Password replaced" }, ...problems(400, 413, 415) },
  }),
  async (c) => {
    const { token, password } = c.req.valid("json");
    const { user, hash } = await tokenOwner(c.env.DB, token);
    const guard = guardFor(c.env, user.id);
    // The costly hash is spent only on a live link; the guard claims it after, in one step with the change.
    if (!(await guard.tokenLive("password_reset", hash, Date.now()))) throw invalidToken();
    const [passwordHash, shared] = await Promise.all([
      hashPassword(password, passwordParams(c.env)),
      // For the log of a never-proven account, which leaves these (docs/security.md R11h); D1 decides again as it deletes.
      communitiesAdministeredByOthers(c.env.DB, user.id),
    ]);
    const done = await guard.resetPassword(callerOf(c, user), hash, passwordHash, shared);
    if (!done.ok) throw invalidToken();
    return c.body(null, 204);
  },
);

emailRoutes.openapi(
  createRoute({
    method: "post",
    path: "/device-link",
    tags: ["auth"],
    summary: "Make this browser one of the account's devices with the emailed sign-in link's token",
    request: jsonBody(z.object({ token: Token }).openapi("DeviceLinkRequest")),
    responses: { 204: { description: "This browser now has its own login bucket for the account" }, ...problems(400, 413, 415) },
  }),
  async (c) => {
    const { user, hash, generation } = await tokenOwner(c.env.DB, c.req.valid("json").token);
    if (!(await guardFor(c.env, user.id).claimToken(callerOf(c, user), "device_link", hash))) throw invalidToken();
    // For the password read before the claim: a change or reset that lands after it leaves this token worthless, as it should.
    setDeviceCookie(c, await mintDeviceToken(c.env, user.email, generation));
    return c.body(null, 204);
  },
);
