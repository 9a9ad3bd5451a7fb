import type { Context } from "hono";
import type { AppEnv } from "../env";
import type { Caller, SessionCaller } from "../guard/types";
import type { Session, SessionUser } from "../session";

/**
 * The guard's view of a request: the user, where from, when and, with a
 * session, its stage and epoch (the guard checks both again).
 */
export function callerOf(c: Context<AppEnv>, user: SessionUser): Caller;
export function callerOf(c: Context<AppEnv>, user: SessionUser, session: Session): SessionCaller;
export function callerOf(c: Context<AppEnv>, user: SessionUser, session?: Session): Caller {
  const meta = c.get("meta");
  const caller: Caller = { user, ip: meta.ip, userAgent: meta.userAgent, now: Date.now(), requestId: meta.requestId };
  if (!session) return caller;
  const withSession: SessionCaller = { ...caller, stage: session.stage, sessionEpoch: session.epoch, sessionId: session.id };
  return withSession;
}
