import type { Context } from "hono";
import { trustedBrowsersAllowed } from "../communities/trusted-policy";
import type { AppEnv, Env } from "../env";
import type { SessionCaller } from "../guard/types";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import type { Session } from "../session";
import { mintTrustedToken, setTrustedCookie } from "./trusted-cookie";

/**
 * "Remember this browser for 30 days", after a second step that passed:
 * `session` is the one that has just become `authenticated`. Refused quietly
 * (false: the login itself succeeded) when a community of the user forbids
 * trusted browsers; the page says so.
 */
export async function rememberThisBrowser(c: Context<AppEnv>, session: Pick<Session, "id" | "stage" | "epoch" | "userLang" | "user">): Promise<boolean> {
  if (!(await trustedBrowsersAllowed(c.env.DB, session.user.id))) return false;
  const { token, hash } = mintTrustedToken(session.user.id);
  if (!(await rememberInGuard(c.env, callerOf(c, session.user, session), hash))) return false;
  setTrustedCookie(c, token);
  return true;
}

/** What the route does once its read of the policy allowed it: the guard remembers `hash`; true when it did. */
export async function rememberInGuard(env: Env, caller: SessionCaller, hash: string): Promise<boolean> {
  const outcome = await guardFor(env, caller.user.id).rememberBrowser(caller, hash);
  return outcome.ok;
}
