import type { Context } from "hono";
import { eventStatement, securityEvent } from "../audit/events";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { publicOrigin } from "../http/public-origin";
import { prepare } from "../lib/statement";
import { newBrowserMail } from "../notify/templates";
import type { SessionUser } from "../session";
import { NEW_BROWSER_ALERT_POLICY } from "./limits";
import { tryTakeTokens } from "./throttle";

/**
 * New-browser alerts (docs/security.md "Sessions"). A browser is new to an
 * account when its password step came without a valid `__Host-device` cookie
 * for that account (src/auth/device.ts); the login route records that on the
 * session row (`new_browser`), so a login that needs a second step alerts
 * when the second step passes, not at the password. The first full login of
 * an account (right after signup) is not news to its owner and sends nothing:
 * whether one is on record (a `logged_in` event) is read with the user's row
 * (src/auth/store.ts `findLoginUser`), before this login writes its own.
 */

/**
 * Sends the alert through the user's guard: the event and the outbox row are
 * recorded in the guard first, then written to D1 and delivered by its flush;
 * a failed delivery is retried by the guard's alarm, never by this request.
 * Awaited, so that the answer to the login means the alert is on record; it
 * costs two guard calls, and only on a new browser's login.
 */
export async function alertNewBrowser(c: Context<AppEnv>, user: SessionUser): Promise<void> {
  const caller = callerOf(c, user);
  try {
    const event = securityEvent("new_browser_login", user.id, caller, caller.now);
    const guard = guardFor(c.env, user.id);
    // Logging in needs no proven address, and a right password gives the login throttle's tokens back: a script
    // that signed up with someone else's address emailed it once per login (docs/security.md R9h). Until the
    // address is proven its alerts have a bucket; past it the login is still logged, only not emailed.
    if (!(await guard.emailVerified())) {
      const alert = await tryTakeTokens(c.env, [{ key: `new-browser-alert:${user.id}`, policy: NEW_BROWSER_ALERT_POLICY }], caller.now);
      if (!alert.ok) {
        await prepare(c.env.DB, eventStatement(event)).run();
        return;
      }
    }
    const mail = newBrowserMail(event, caller.lang ?? "en", publicOrigin(c.env, c.get("meta")));
    await guard.sendMail(caller, { to: user.email, ...mail, template: "new_browser_login", userId: user.id }, { statements: [], events: [event] });
  } catch (err) {
    // The login succeeded and its session exists; refusing it now would help nobody. The line names
    // the failure's class only (never its message, which may quote the request), like the guard's.
    console.warn(`new-browser alert not recorded: ${err instanceof Error ? err.constructor.name : "unknown error"} (request ${caller.requestId ?? "none"})`);
  }
}
