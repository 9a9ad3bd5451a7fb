import type { Context } from "hono";
import { trustedBrowsersAllowed } from "../communities/trusted-policy";
import type { AppEnv } from "../env";
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
  const outcome = await guardFor(c.env, session.user.id).rememberBrowser(callerOf(c, session.user, session), hash);
  if (!outcome.ok) return false;
  setTrustedCookie(c, token);
  return true;
}
