import type { RelyingParty } from "../factors/webauthn/relying-party";
import type { ResponseFields } from "../factors/webauthn/response-fields";
import type { Lang } from "../notify/language";
import type { SecondStepStage, SessionUser, Stage } from "../session";

export type MethodType = "totp" | "webauthn";
export type LoginMethod = MethodType | "backup_code";

/** Who is acting and from where; `now` is passed in so tests can move the clock. */
export interface Caller {
  user: SessionUser;
  ip: string | null;
  userAgent: string | null;
  now: number;
  /** The epoch of the caller's session; a stale one is refused by the guard itself. */
  sessionEpoch?: number;
  /** The caller's session, kept alive when a change ends the user's other sessions. */
  sessionId?: string;
  /** The public id of the caller's D1 session (src/session.ts), which stays when its token and id change: a key's registration is bound to it. */
  sessionPublicId?: string;
  /** The request's id, named in the guard's log lines (src/guard/flush.ts). */
  requestId?: string;
  /**
   * The language of emails to `user` that this call causes, chosen by the
   * Worker (src/http/caller.ts, docs/email.md "Which language"). Absent only
   * when a test calls the guard directly: English.
   */
  lang?: Lang;
}

/**
 * A caller acting through one of the user's own sessions. The guard checks the
 * stage again for every change it makes (defence in depth: whatever the route
 * admitted, a half-logged-in session never changes a factor).
 */
export interface SessionCaller extends Caller {
  stage: Stage;
}

export interface MethodView {
  id: string;
  type: MethodType;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface LoginState {
  stage: "authenticated" | "second_factor" | "recovery";
  methods: LoginMethod[];
  preferred: MethodType | null;
  epoch: number;
  /** A remembered browser stood in for the second step (src/guard/trusted.ts). */
  trustedBrowser?: true;
}

/** A remembered browser as the Security page lists it; never its token nor the token's hash. */
export interface TrustedBrowserView {
  id: string;
  current: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
  ip: string | null;
  userAgent: string | null;
}

/** A confirmed enrollment. `epoch` is set when it turned 2FA on: sessions below it are dead, the caller's must move to it. */
export interface MethodConfirmed {
  method: MethodView;
  backupCodes: string[] | null;
  epoch: number | null;
}

export interface GuardSummary {
  enabled: boolean;
  preferred: MethodType | null;
  methods: MethodView[];
  backupCodesRemaining: number;
  recoveryExpiresAt: number | null;
}

/** The stages each kind of call is made from (docs/api.md "Session stages"). */
export const SECOND_STEP: readonly Stage[] = ["second_factor"];
export const RECOVERY: readonly Stage[] = ["recovery"];
export const ENROLLING: readonly Stage[] = ["authenticated", "enrollment"];
export const FULL: readonly Stage[] = ["authenticated"];

/** Why a call is refused at the door, before anything is read: the wrong stage, or a session a newer epoch ended. */
export type EntryRefusal = { ok: false; reason: "wrong_stage" | "stale_session" };

/** Results cross RPC as unions: custom error classes do not survive it. */
export type Refusal =
  /** `attemptsLeft` and `lockSeconds` only on the last refusals before a lock (src/guard/state.ts WARN_ATTEMPTS_LEFT). */
  | { ok: false; reason: "invalid"; attemptsLeft?: number; lockSeconds?: number }
  | { ok: false; reason: "locked"; retryAfter: number }
  | { ok: false; reason: "stale_session" }
  | { ok: false; reason: "wrong_stage" };

export type VerifyResult = { ok: true; methodId: string | null; methodType: LoginMethod | "recovery_code" } | Refusal;

/** What the login tells the guard of the session it opens, kept if the login stops at a half stage (src/guard/half-sessions.ts). */
export interface HalfSessionStart {
  /** The D1 session's id: the SHA-256 of the cookie's token. */
  id: string;
  expiresAt: number;
  user: SessionUser;
  /** The user's stored language (D1 `users.lang`) when the password step ran. */
  lang: Lang | null;
  newBrowser: boolean;
  /** The password generation the login was checked against (src/auth/device.ts): the second step's device token carries it. */
  deviceGeneration: string;
}

/** A half session as the second step sees it. */
export interface HalfSession {
  id: string;
  stage: SecondStepStage;
  epoch: number;
  userLang: Lang | null;
  newBrowser: boolean;
  user: SessionUser;
  /** Null for a half session recorded before guard migration 8: its second step marks no device. */
  deviceGeneration: string | null;
}

/** The request of a second step, as the guard needs it: the user comes from the half session. */
export type StepRequest = Pick<Caller, "ip" | "userAgent" | "now" | "requestId"> & { lang: Lang };

export type StepAttempt =
  | { method: "totp" | "backup_code" | "recovery_code"; code: string }
  | { method: "webauthn"; response: ResponseFields; rp: RelyingParty };

/**
 * A second step's answer: no session (unknown, ended or expired: log in again);
 * a session whose stage does not take this method (result null); or the session and the verification's result.
 */
export type StepAnswer = { session: null } | { session: HalfSession; result: VerifyResult | null };

/** `unsettled`: a change that needed D1's answer did not get it (src/guard/key-claims.ts); nothing was kept, try again. */
export type Outcome<T> =
  | ({ ok: true } & T)
  | { ok: false; reason: "not_found" | "invalid" | "last_method" | "not_enrolled" | "stale_session" | "exists" | "wrong_stage" | "too_many" | "unsettled" };

/** `admin_reset_first`: the member had begun a reset of this admin first (src/guard/reset.ts `resetFirst`). */
export type ResetResult = { ok: true; recoveryCode: string; expiresAt: number } | { ok: false; reason: "wrong_stage" | "admin_reset_first" | "not_member" };
