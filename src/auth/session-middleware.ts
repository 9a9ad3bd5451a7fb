import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { isSecondStepStage, REAUTH_MS, type Session, type Stage } from "../session";
import { isHalfToken } from "./half-token";
import { deleteSession, findSession, isLive, readSessionCookie, sessionOfRow, TOUCH_MS, touchSession } from "./session-store";

/** The second step's route (src/auth/routes.ts): the one request a half session makes without its D1 row being read. */
const SECOND_STEP_PATH = "/api/auth/verify";

/** Loads the session named by the cookie, if live; never fails the request by itself. */
export const loadSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = readSessionCookie(c);
  c.set("halfToken", null);
  if (token && isHalfToken(token) && c.req.method === "POST" && c.req.path === SECOND_STEP_PATH) {
    // The second step asks the user's guard, which holds the half session: no D1 read (docs/architecture.md "The half session lives in the guard").
    c.set("halfToken", token);
  } else if (token) {
    const row = await findSession(c.env.DB, token);
    const now = Date.now();
    if (row && isLive(row, now)) {
      c.set("session", sessionOfRow(row));
      if (row.stage === "authenticated" && now - row.last_seen_at >= TOUCH_MS) c.executionCtx.waitUntil(touchSession(c.env.DB, row.id, now).run());
    } else if (row) {
      c.executionCtx.waitUntil(deleteSession(c.env.DB, row.id).run());
    }
  }
  await next();
};

/**
 * Admits only the listed stages. The refusal names what the caller must do next,
 * in the contract's words: log in, finish the second step, or set up a method.
 */
export function requireStage(...allowed: Stage[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.get("session");
    if (!session) throw new AppError("unauthenticated", "Log in first");
    if (!allowed.includes(session.stage)) {
      if (isSecondStepStage(session.stage)) {
        throw new AppError("second_factor_required", "Finish the second login step first");
      }
      if (session.stage === "enrollment") {
        throw new AppError("enrollment_required", "Set up a new two-factor method first");
      }
      throw new AppError("invalid_request", "This session is already fully logged in");
    }
    await next();
  };
}

/**
 * The second step: a half session's token, checked by the user's guard in the
 * handler; without one, the stages `requireStage` names, so that a missing or
 * a full session is refused in the same words as anywhere else.
 */
export const requireSecondStep: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("halfToken")) return next();
  return requireStage("second_factor", "recovery")(c, next);
};

/** The session, once `requireStage` has run. */
export function sessionOf(c: Context<AppEnv>): Session {
  const session = c.get("session");
  if (!session) throw new AppError("unauthenticated", "Log in first");
  return session;
}

/** Sudo: a password re-entered within 10 minutes, or a fresh enrollment session. */
export const requireRecentReauth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const session = sessionOf(c);
  const fresh = session.reauthAt !== null && Date.now() - session.reauthAt < REAUTH_MS;
  if (!fresh) throw new AppError("reauth_required", "Enter your password again to make this change");
  await next();
};
