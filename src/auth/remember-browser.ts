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

/**
 * What the route does once its read of the policy allowed it: the guard remembers `hash`, then the policy is
 * read again; true when the browser stays remembered. A change that forbids remembered browsers (a policy
 * change, or the user joining such a community) forgets the browsers the guard holds when it lands, so one it
 * made between the first read and the guard's write would outlive it (docs/security.md R12b). The second read
 * comes after the write: a change that it does not see lands after it, and its forget finds this browser.
 * One that it sees is done here, as the change itself does it (every browser, reason `community_policy`), and
 * the route sets no cookie: the token never leaves the Worker, so nothing the user holds is remembered.
 */
export async function rememberInGuard(env: Env, caller: SessionCaller, hash: string): Promise<boolean> {
  const guard = guardFor(env, caller.user.id);
  const outcome = await guard.rememberBrowser(caller, hash);
  if (!outcome.ok) return false;
  if (await trustedBrowsersAllowed(env.DB, caller.user.id)) return true;
  await guard.forgetTrustedBrowsers(caller, "community_policy");
  return false;
}
