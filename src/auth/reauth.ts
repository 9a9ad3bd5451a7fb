import type { Context } from "hono";
import type { AppEnv, Env } from "../env";
import { guardFor } from "../guard/user-guard";
import { AppError } from "../http/errors";
import type { Session } from "../session";
import { passwordParams, verifyPassword } from "./passwords";
import { findUserById } from "./store";

/**
 * A re-entered password (reauth, disable), slowed per account by the user's
 * guard. A wrong one answers like a wrong login password.
 */
export async function confirmPassword(c: Context<AppEnv>, session: Session, password: string): Promise<void> {
  const guard = guardFor(c.env, session.user.id);
  const now = Date.now();
  const attempt = await guard.takePasswordAttempt(now);
  if (!attempt.ok) throw new AppError("too_many_attempts", "Too many wrong passwords; wait before trying again", { retryAfter: attempt.retryAfter });
  if (!(await passwordMatches(c.env, session.user.id, password))) throw new AppError("invalid_credentials", "The password is wrong");
  await guard.refundPasswordAttempt(now);
}

/** The user's own password, checked against the stored hash (the caller takes care of throttling: an admin's reset orders its own checks). */
export async function passwordMatches(env: Env, userId: string, password: string): Promise<boolean> {
  const user = await findUserById(env.DB, userId);
  return user ? (await verifyPassword(password, user.password_hash, passwordParams(env))).ok : false;
}
