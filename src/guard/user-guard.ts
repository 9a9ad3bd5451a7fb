import type { Env } from "../env";
import { open, seal } from "../factors/totp/secret-box";
import { checkTOTP } from "../factors/totp/totp";
import { acceptAssertion, verifyAssertion } from "../factors/webauthn/authentication";
import { verifyRegistration } from "../factors/webauthn/registration";
import type { RelyingParty } from "../factors/webauthn/relying-party";
import type { ChallengePurpose, CredentialDescriptor } from "../factors/webauthn/store";
import { codeHashIterations, newCodeHashParams } from "../lib/code-hash";
import { formatToken, newSecret, secretHash } from "../lib/email-token";
import { currentKeyId } from "../lib/mac-key";
import { newId, randomBytes } from "../lib/random";
import type { TakeResult } from "../lib/token-bucket";
import type { Lang } from "../notify/language";
import { generateRecoveryCode, hashRecoveryCode } from "../recovery/codes";
import { ceremonySession, openCeremony } from "./ceremonies";
import { hashBackupCandidate, hashRecoveryAttempt } from "./code-keys";
import type { Effect } from "./effects";
import * as enroll from "./enroll";
import { GuardCore } from "./guard-core";
import * as halves from "./half-sessions";
import * as manage from "./manage";
import { type PolicyChange, policyChanged } from "./policy";
import * as reset from "./reset";
import { sealToken } from "./sealed-token";
import * as state from "./state";
import * as tokens from "./tokens";
import * as trusted from "./trusted";
import type * as T from "./types";
import { ENROLLING, FULL, RECOVERY, SECOND_STEP } from "./types";
import * as verify from "./verify";

/**
 * The per-user guard: one Durable Object per user (`idFromName(userId)`), the
 * only place a user's verifications are serialised. This class is its RPC
 * front. Every call enters (`enter`: the user bound, the caller's stage and
 * session checked, again after every await), does its slow work, then hands
 * one synchronous step to verify.ts, enroll.ts, manage.ts or reset.ts (no
 * await between a check and its write), and commits what that step says D1
 * and the mailbox must learn (`commit`: recorded, then flushed).
 */
export class UserGuard extends GuardCore {
  // ---- login -----------------------------------------------------------

  /**
   * The password was right: where this login goes next. `trustedHash`: the SHA-256 of this browser's
   * trusted token, when it names this user and their communities allow it. With `half`, a login that
   * stops at the second step (or the recovery code) is remembered here for that step.
   * `passwordEpoch`: the epoch D1 had when the password's hash was read (src/auth/store.ts); the login has
   * no session yet, so this is not its caller's `sessionEpoch`, which the entry check would judge.
   */
  loginState(caller: T.Caller, trustedHash: string | null = null, half: T.HalfSessionStart | null = null, passwordEpoch?: number): T.LoginState {
    this.enter(caller);
    const login = state.loginState(this.sql, passwordEpoch);
    // Only the second step is skipped: a reset's recovery code is never.
    if (login.stage === "second_factor" && trustedHash && trusted.useTrustedBrowser(this.sql, caller, trustedHash)) {
      return { stage: "authenticated", methods: [], preferred: null, epoch: login.epoch, trustedBrowser: true };
    }
    if (login.stage !== "authenticated" && half) halves.recordHalfSession(this.sql, half, login.stage, login.epoch, caller.now);
    return login;
  }

  /**
   * The second step of a half session known by its id: the session's facts come from
   * here, not from D1, and the attempt is verified as by the calls below.
   */
  async secondStep(id: string, request: T.StepRequest, attempt: T.StepAttempt): Promise<T.StepAnswer> {
    const userId = state.readState(this.sql).user_id;
    const session = userId === null ? null : halves.findHalfSession(this.sql, userId, id, request.now);
    if (!session) return { session: null };
    if ((session.stage === "recovery") !== (attempt.method === "recovery_code")) return { session, result: null };
    const caller = halves.stepCaller(session, request);
    let result: T.VerifyResult;
    if (attempt.method === "webauthn") result = await this.verifyWebAuthn(caller, attempt.response, attempt.rp);
    else if (attempt.method === "totp") result = await this.verifyTOTP(caller, attempt.code);
    else if (attempt.method === "backup_code") result = await this.verifyBackupCode(caller, attempt.code);
    else result = await this.verifyRecoveryCode(caller, attempt.code);
    // A passed step ends the half session here; the Worker then moves it in D1. A recovery session is
    // kept until its 10 minutes run out: should that D1 write fail, the same session retries with the
    // same code (its claim is the session's), where any other code can be asked for again.
    if (result.ok && session.stage !== "recovery") halves.forgetHalfSessions(this.sql, id);
    return { session, result };
  }

  /** A half session logged out (`id`), or every other session ended (none): refused from now on. */
  forgetHalfSessions(id?: string): void {
    halves.forgetHalfSessions(this.sql, id);
  }

  summary(): T.GuardSummary {
    return state.summary(this.sql);
  }

  takePasswordAttempt(now: number): TakeResult {
    return state.takePasswordAttempt(this.sql, now);
  }

  refundPasswordAttempt(now: number): void {
    state.refundPasswordAttempt(this.sql, now);
  }

  // ---- second factor (bodies in verify.ts) -----------------------------

  async verifyTOTP(caller: T.SessionCaller, code: string): Promise<T.VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    const ring = await this.keyRing();
    // One app at a time, stopping at the one that takes the code: a right code usually opens one secret.
    for (const row of verify.totpSecrets(this.sql, caller.now)) {
      const key = await open(ring, row.key_id, new Uint8Array(row.secret), enroll.totpAAD(caller.user.id, row.id));
      // From here on, synchronous: the lock, the step check and the claim happen as one.
      const late = this.admit(caller, SECOND_STEP);
      if (late) return late;
      if (!verify.claimTOTP(this.sql, row, key, code, caller.now)) continue;
      state.clearFailures(this.sql);
      await verify.resealIfRotated(this.sql, ring, caller.user.id, row, key);
      return { ok: true, methodId: row.id, methodType: "totp" };
    }
    return this.admit(caller, SECOND_STEP) ?? this.refuse(caller);
  }

  async verifyBackupCode(caller: T.SessionCaller, code: string): Promise<T.VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    // The costly hash comes first; the lock check and the claim after it are one synchronous step.
    const hash = await hashBackupCandidate(this.sql, this.env.ENCRYPTION_KEYS, caller.user.id, code, this.codeHashes);
    const late = this.admit(caller, SECOND_STEP);
    if (late) return late;
    const accepted = verify.claimBackupCode(this.sql, caller, hash);
    if (!accepted) return this.refuse(caller);
    await this.commit(caller, accepted);
    return { ok: true, methodId: null, methodType: "backup_code" };
  }

  async verifyRecoveryCode(caller: T.SessionCaller, code: string): Promise<T.VerifyResult> {
    const early = this.admit(caller, RECOVERY);
    if (early) return early;
    const { found, hash } = await hashRecoveryAttempt(this.sql, this.env.ENCRYPTION_KEYS, caller, code, this.codeHashes);
    const late = this.admit(caller, RECOVERY);
    if (late) return late;
    const accepted = verify.claimRecoveryCode(this.sql, caller, hash, found);
    if (!accepted) return this.refuse(caller);
    if (accepted !== "again") await this.commit(caller, accepted);
    return { ok: true, methodId: null, methodType: "recovery_code" };
  }

  /**
   * The second step with a key: refusals count toward the same lockout as codes.
   * verifyAssertion claims the challenge before its first await (same step as
   * admit), so this attempt takes its place in the order of attempts here; the
   * lock is read again after the signature check, so a lock set meanwhile
   * answers this attempt too (429), right key or wrong, and is never lowered.
   */
  async verifyWebAuthn(caller: T.SessionCaller, response: unknown, rp: RelyingParty): Promise<T.VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    const check = await verifyAssertion(this.sql, { response, rp, userId: caller.user.id, session: caller.sessionId ?? null, now: caller.now });
    const late = this.admit(caller, SECOND_STEP);
    if (late) return late;
    const accepted = check.ok ? acceptAssertion(this.sql, check, caller.now) : check;
    if (!accepted.ok) return this.refuse(caller, verify.counterAnomaly(caller, accepted));
    state.clearFailures(this.sql);
    return { ok: true, methodId: accepted.id, methodType: "webauthn" };
  }

  // ---- adding methods (bodies in enroll.ts) -----------------------------

  async startTOTP(caller: T.SessionCaller, name: string): Promise<T.Outcome<{ id: string; secret: Uint8Array }>> {
    const refused = this.enter(caller, ENROLLING);
    if (refused) return refused;
    if (!enroll.hasRoomForMethod(this.sql)) return { ok: false, reason: "too_many" };
    const id = newId();
    const secret = randomBytes(20); // 160 bits, RFC 4226 §4 R6's recommended length
    const { keyId, box } = await seal(await this.keyRing(), secret, enroll.totpAAD(caller.user.id, id));
    enroll.storePendingTOTP(this.sql, { id, name, keyId, box }, caller.now);
    await this.rearm();
    return { ok: true, id, secret };
  }

  async confirmTOTP(caller: T.SessionCaller, id: string, code: string): Promise<T.Outcome<T.MethodConfirmed>> {
    const refused = this.enter(caller, ENROLLING);
    if (refused) return refused;
    const row = enroll.pendingTOTP(this.sql, id, caller.now);
    if (!row) return { ok: false, reason: "not_found" };
    const key = await open(await this.keyRing(), row.key_id, new Uint8Array(row.secret), enroll.totpAAD(caller.user.id, id));
    const check = checkTOTP(key, code, caller.now, -1);
    if (!check.ok) return { ok: false, reason: "invalid" };
    const fresh = await enroll.prepareBackupCodes(caller.user.id, codeHashIterations(this.env), this.codeHashes, this.env.ENCRYPTION_KEYS);
    // Read again after the awaits: a reset or a disable meanwhile ended this session.
    return this.enter(caller, ENROLLING) ?? this.apply(caller, enroll.confirmTOTP(this.sql, caller, id, check.step, fresh));
  }

  /** A fresh single-use challenge (5 minutes) for the caller's session alone (src/guard/ceremonies.ts), and the user's keys, for either ceremony's options. */
  async webAuthnChallenge(caller: T.SessionCaller, purpose: ChallengePurpose): Promise<T.Outcome<{ challenge: string; keys: CredentialDescriptor[] }>> {
    const issued = this.enter(caller, purpose === "authentication" ? SECOND_STEP : ENROLLING) ?? openCeremony(this.sql, caller, purpose);
    if (issued.ok) await this.rearm();
    return issued;
  }

  async registerWebAuthn(caller: T.SessionCaller, name: string, response: unknown, rp: RelyingParty): Promise<T.Outcome<T.MethodConfirmed>> {
    const refused = this.enter(caller, ENROLLING);
    if (refused) return refused;
    const check = await verifyRegistration(this.sql, { response, rp, session: ceremonySession(this.sql, caller, "registration"), now: caller.now });
    if (!check.ok) return { ok: false, reason: "invalid" };
    const fresh = await enroll.prepareBackupCodes(caller.user.id, codeHashIterations(this.env), this.codeHashes, this.env.ENCRYPTION_KEYS);
    // Read again after the awaits: a reset or a disable meanwhile ended this session. Then D1 decides whose key it is (src/guard/key-claims.ts).
    const started = this.enter(caller, ENROLLING) ?? enroll.startKeyClaim(this.sql, caller, { id: newId(), name, credential: check.credential });
    if (!started.ok) return started;
    const settled = await this.settleKeyClaim(caller, started.claim, started.effect);
    return settled.ok ? this.apply(caller, enroll.addCredential(this.sql, caller, started.claim, check.credential, settled.held, fresh)) : settled;
  }

  // ---- managing methods (bodies in manage.ts) ---------------------------

  async renameMethod(caller: T.SessionCaller, id: string, name: string): Promise<T.Outcome<{ method: T.MethodView }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, manage.renameMethod(this.sql, caller, id, name));
  }

  async removeMethod(caller: T.SessionCaller, id: string): Promise<T.Outcome<{ epoch: number }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, manage.removeMethod(this.sql, caller, id));
  }

  async setPreferred(caller: T.SessionCaller, type: T.MethodType): Promise<T.Outcome<{ preferred: T.MethodType }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, manage.setPreferred(this.sql, caller, type));
  }

  async regenerateBackupCodes(caller: T.SessionCaller): Promise<T.Outcome<{ codes: string[] }>> {
    const refused = this.enter(caller, FULL);
    if (refused) return refused;
    if (!manage.hasMethods(this.sql)) return { ok: false, reason: "not_enrolled" };
    const fresh = await enroll.prepareBackupCodes(caller.user.id, codeHashIterations(this.env), this.codeHashes, this.env.ENCRYPTION_KEYS);
    return this.enter(caller, FULL) ?? this.apply(caller, manage.regenerateBackupCodes(this.sql, caller, fresh));
  }

  // ---- trusted browsers (bodies in trusted.ts) ---------------------------

  /** Called by the second step once it succeeded, with the session already moved on to `authenticated`. */
  async rememberBrowser(caller: T.SessionCaller, hash: string): Promise<T.Outcome<{ expiresAt: number }>> {
    return this.enter(caller, FULL) ?? { ok: true, ...(await this.apply(caller, trusted.rememberBrowser(this.sql, caller, newId(), hash))) };
  }

  trustedBrowsers(caller: T.SessionCaller, currentHash: string | null): T.Outcome<{ browsers: T.TrustedBrowserView[] }> {
    return this.enter(caller, FULL) ?? { ok: true, browsers: trusted.listTrustedBrowsers(this.sql, caller.now, currentHash) };
  }

  async forgetTrustedBrowser(caller: T.SessionCaller, id: string): Promise<T.Outcome<{ hash: string }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, trusted.forgetTrustedBrowser(this.sql, caller, id));
  }

  /** "Forget all", and what a change made outside the guard (a password changed or reset, a community's policy) calls. */
  async forgetTrustedBrowsers(caller: T.Caller, reason: string, actorId?: string, about?: { communityName?: string }): Promise<{ count: number }> {
    this.enter(caller);
    return this.apply(caller, trusted.forgetAll(this.sql, caller, reason, actorId, about));
  }

  async disable(caller: T.SessionCaller): Promise<T.Outcome<{ epoch: number }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, manage.disable(this.sql, caller));
  }

  // ---- email tokens and passwords (bodies in tokens.ts) -----------------

  /** A new single-use token of `purpose`, its email recorded with the token sealed until delivery (tokens.issueToken). */
  async issueToken(caller: T.Caller, purpose: tokens.TokenPurpose, mail: tokens.LinkMail): Promise<tokens.Issued> {
    this.enter(caller);
    const secret = newSecret();
    const id = newId();
    const sealed = await sealToken(this.env, formatToken(caller.user.id, secret), { userId: caller.user.id, mailId: id, to: caller.user.email });
    return this.apply(caller, tokens.issueToken(this.sql, caller, purpose, secretHash(secret), { ...mail, id }, sealed));
  }

  tokenLive(purpose: tokens.TokenPurpose, hash: string, now: number): boolean {
    return tokens.tokenLive(this.sql, purpose, hash, now);
  }

  /** Claims a token; a verification link also marks the email proven, in the same step. */
  async claimToken(caller: T.Caller, purpose: Exclude<tokens.TokenPurpose, "password_reset">, hash: string): Promise<boolean> {
    this.enter(caller);
    return this.apply(caller, tokens.claim(this.sql, caller, purpose, hash));
  }

  emailVerified(): boolean {
    return tokens.isEmailVerified(this.sql);
  }
  /** The email was proven another way (an invitation's own link). */
  async markEmailVerified(caller: T.Caller, how: string): Promise<void> {
    this.enter(caller);
    await this.apply(caller, { result: undefined, effect: tokens.markEmailVerified(this.sql, caller, how) });
  }

  async resetPassword(caller: T.Caller, hash: string, passwordHash: string, shared: tokens.SharedCommunity[]): Promise<tokens.ResetResult> {
    this.enter(caller);
    return this.apply(caller, tokens.resetPassword(this.sql, caller, hash, passwordHash, shared));
  }

  async changePassword(caller: T.SessionCaller, passwordHash: string): Promise<T.Outcome<{ epoch: number }>> {
    return this.enter(caller, FULL) ?? this.apply(caller, tokens.changePassword(this.sql, caller, passwordHash));
  }

  // ---- what others do to the account (bodies in reset.ts) ---------------

  /** An admin's reset of this guard's user (`caller`); `notify`: the other admins to tell when the user is an admin of the community. */
  async adminReset(caller: T.Caller, admin: reset.ResettingAdmin, notify: reset.NoticeRecipient[] = []): Promise<T.ResetResult> {
    this.enter(caller);
    // Defence in depth, as for the user's own calls: only a fully logged-in admin resets.
    if (!FULL.includes(admin.stage)) return { ok: false, reason: "wrong_stage" };
    const recoveryCode = generateRecoveryCode();
    // Keyed under the current ENCRYPTION_KEYS entry: a copy of this storage confirms no guess (docs/security.md R13n).
    const params = newCodeHashParams(codeHashIterations(this.env), currentKeyId(this.env.ENCRYPTION_KEYS));
    const hash = (await hashRecoveryCode(caller.user.id, recoveryCode, params, this.codeHashes, this.env.ENCRYPTION_KEYS)) as string;
    // The start is judged by this guard's clock: the caller's `now` was stamped with it, in the admin's request (R12z).
    const done = reset.adminReset(this.sql, caller, admin, { hash, params }, notify, Date.now());
    if (!done.ok) return done;
    await this.commit(caller, ...done.effects);
    return { ok: true, recoveryCode, expiresAt: done.expiresAt };
  }

  async membershipEnded(caller: T.Caller, change: Parameters<typeof reset.membershipEnded>[1]): Promise<void> {
    this.enter(caller);
    await this.commit(caller, reset.membershipEnded(caller, change));
  }

  /** This guard's user, an admin, changed a community's two-factor policy: their log and every admin's inbox learn it. */
  async policyChanged(caller: T.Caller, change: PolicyChange, admins: { id: string; email: string; lang: Lang }[]): Promise<void> {
    this.enter(caller);
    await this.commit(caller, ...policyChanged(caller, change, admins));
  }

  /** An email composed by the Worker (an invitation this user sent, a new-browser alert to this user), with what D1 must record about it. */
  async sendMail(
    caller: T.Caller,
    mail: { to: string; subject: string; text: string; template: string; userId?: string; token?: string },
    effect: Omit<Effect, "mail" | "sealed"> = { statements: [] },
  ): Promise<void> {
    this.enter(caller);
    const { token, userId, ...content } = mail;
    const id = newId();
    const sealed = token ? await sealToken(this.env, token, { userId: caller.user.id, mailId: id, to: content.to }) : undefined; // an invitation's link
    await this.commit(caller, { ...effect, mail: { ...content, userId: userId ?? null, id }, ...(sealed ? { sealed } : {}) });
  }
}

export function guardFor(env: Env, userId: string): DurableObjectStub<UserGuard> {
  return env.USER_GUARD.get(env.USER_GUARD.idFromName(userId));
}
