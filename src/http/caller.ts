import type { Context } from "hono";
import type { Session, SessionUser } from "../auth/session";
import type { AppEnv } from "../env";
import type { Caller } from "../guard/types";

/** The guard's view of a request: the user, where from, when, and the session's epoch. */
export function callerOf(c: Context<AppEnv>, user: SessionUser, session?: Session | null): Caller {
  const meta = c.get("meta");
  const caller: Caller = { user, ip: meta.ip, userAgent: meta.userAgent, now: Date.now() };
  if (session) {
    caller.sessionEpoch = session.epoch;
    caller.sessionId = session.id;
  }
  return caller;
}
