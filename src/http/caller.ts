import type { Context } from "hono";
import type { AppEnv, RequestMeta } from "../env";
import type { Caller, SessionCaller } from "../guard/types";
import { emailLang, type Lang } from "../notify/language";
import type { Session, SessionUser } from "../session";

/** What of a session the guard is told: a full row's or a half session's from the guard itself. */
type CallerSession = Pick<Session, "id" | "stage" | "epoch" | "userLang"> & Partial<Pick<Session, "publicId">>;

/**
 * The guard's view of a request: the user, where from, when and, with a
 * session, its stage and epoch (the guard checks both again), and the
 * language of the emails the call causes to that user.
 */
export function callerOf(c: Context<AppEnv>, user: SessionUser): Caller;
export function callerOf(c: Context<AppEnv>, user: SessionUser, session: CallerSession): SessionCaller;
export function callerOf(c: Context<AppEnv>, user: SessionUser, session?: CallerSession): Caller {
  const meta = c.get("meta");
  // The request speaks for the user once the session has proven who they are; before that, their last login does.
  const proven = session !== undefined && (session.stage === "authenticated" || session.stage === "enrollment");
  const lang = emailLang(meta.lang, { stored: session?.userLang ?? null, ownProvenRequest: proven || session === undefined });
  const caller: Caller = { user, ip: meta.ip, userAgent: meta.userAgent, now: Date.now(), requestId: meta.requestId, lang };
  if (!session) return caller;
  const withSession: SessionCaller = { ...caller, stage: session.stage, sessionEpoch: session.epoch, sessionId: session.id };
  if (session.publicId !== undefined) withSession.sessionPublicId = session.publicId;
  return withSession;
}

/**
 * A request acting on another user's account (an admin's reset, a removal):
 * their emails are in their own stored language, else the request's
 * (docs/email.md "Which language").
 */
export function callerFor(c: Context<AppEnv>, user: SessionUser, stored: Lang | null): Caller {
  return callerOnBehalfOf(c.get("meta"), user, stored, Date.now());
}

/** What a request says about its sender, kept for work done after the answer (a queued password reset). */
export type RequestOrigin = Pick<RequestMeta, "ip" | "userAgent" | "requestId" | "lang">;

/** callerFor, from a request that has already been answered: the work runs at `now`, elsewhere. */
export function callerOnBehalfOf(from: RequestOrigin, user: SessionUser, stored: Lang | null, now: number): Caller {
  const lang = emailLang(from.lang, { stored, ownProvenRequest: false });
  return { user, ip: from.ip, userAgent: from.userAgent, now, requestId: from.requestId, lang };
}
