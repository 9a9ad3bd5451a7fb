import { DurableObject } from "cloudflare:workers";
import type { SecurityEvent } from "../audit/events";
import { HALF_SESSION_MS, type Stage } from "../auth/session";
import { BACKUP_CODE_COUNT, generateBackupCodes, hashBackupCode } from "../backup-codes/codes";
import type { Env } from "../env";
import { type KeyRing, loadKeyRing, open, seal } from "../factors/totp/secret-box";
import { checkTOTP } from "../factors/totp/totp";
import { acceptAssertion, verifyAssertion } from "../factors/webauthn/authentication";
import { verifyRegistration } from "../factors/webauthn/registration";
import type { RelyingParty } from "../factors/webauthn/relying-party";
import { type ChallengePurpose, type CredentialDescriptor, insertCredential, issueChallenge, listCredentials } from "../factors/webauthn/store";
import { type CodeHashParams, codeHashIterations, newCodeHashParams } from "../lib/code-hash";
import { timingSafeEqual } from "../lib/constant-time";
import { utf8 } from "../lib/encoding";
import { newId, randomBytes } from "../lib/random";
import { type BucketState, giveBack, type TakeResult, take } from "../lib/token-bucket";
import { adminResetNotice } from "../notify/templates";
import { generateRecoveryCode, hashRecoveryCode, RECOVERY_CODE_TTL_MS } from "../recovery/codes";
import { type Effect, flushEffects, recordEffect, recordMail, type Statement } from "./effects";
import { GUARD_SCHEMA } from "./schema";
import {
  backupCodesRemaining,
  bumpEpoch,
  clearFailures,
  countFailure,
  effectivePreferred,
  epochStatements,
  listMethods,
  lockRemaining,
  methodTypes,
  readState,
  SUDO_POLICY,
} from "./state";
import type { Caller, GuardSummary, LoginState, MethodConfirmed, MethodType, MethodView, Outcome, Refusal, SessionCaller, VerifyResult } from "./types";

/** The stages each kind of call is made from (docs/api.md "Session stages"). */
const SECOND_STEP: readonly Stage[] = ["second_factor"];
const RECOVERY: readonly Stage[] = ["recovery"];
const ENROLLING: readonly Stage[] = ["authenticated", "enrollment"];
const FULL: readonly Stage[] = ["authenticated"];

/** Unconfirmed authenticator-app enrollments expire after 10 minutes (API.md). */
export const ENROLLMENT_TTL_MS = 10 * 60 * 1000;
const MAX_PENDING_ENROLLMENTS = 5;

/**
 * The per-user guard: one Durable Object per user (`idFromName(userId)`), the
 * only place a user's verifications are serialised. Everything single-use is
 * claimed here in one synchronous step (no await between the check and the
 * write), and every change records what D1 and the mailbox must learn (effects).
 */
export class UserGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private ring: Promise<KeyRing> | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(GUARD_SCHEMA);
    });
  }

  // ---- shared plumbing -------------------------------------------------

  private keyRing(): Promise<KeyRing> {
    this.ring ??= loadKeyRing(this.env.ENCRYPTION_KEYS);
    return this.ring;
  }

  private bind(caller: Caller): void {
    this.sql.exec("UPDATE state SET user_id = ? WHERE id = 1 AND user_id IS NULL", caller.user.id);
  }

  private stale(caller: Caller): boolean {
    return caller.sessionEpoch !== undefined && caller.sessionEpoch < readState(this.sql).epoch;
  }

  private event(caller: Caller, type: SecurityEvent["type"], data?: SecurityEvent["data"]): SecurityEvent {
    const e: SecurityEvent = { id: newId(), userId: caller.user.id, type, at: caller.now, ip: caller.ip, userAgent: caller.userAgent };
    if (data) e.data = data;
    return e;
  }

  private record(effect: Effect, now: number): void {
    recordEffect(this.sql, effect, now);
  }

  /** Writes D1 and sends mail for everything recorded; one flush at a time per guard. */
  private async settle(): Promise<void> {
    const run = this.flushing.then(() => flushEffects(this.sql, this.env, Date.now()));
    this.flushing = run.catch(() => undefined);
    await run;
    await this.rearm();
  }

  /** One alarm, many deadlines: always the earliest in the `deadlines` view. */
  private async rearm(): Promise<void> {
    const due = this.sql.exec<{ due: number | null }>("SELECT MIN(due) AS due FROM deadlines").one().due;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.sql.exec("DELETE FROM totp WHERE confirmed_at IS NULL AND pending_expires_at <= ?", now);
    this.sql.exec("DELETE FROM challenges WHERE expires_at <= ?", now);
    this.sql.exec("DELETE FROM recovery_claims WHERE until <= ?", now);
    const expired = this.sql
      .exec<{ expires_at: number; issued_by: string }>("DELETE FROM recovery WHERE expires_at <= ? RETURNING expires_at, issued_by", now)
      .toArray()[0];
    const userId = readState(this.sql).user_id;
    if (expired && userId) {
      // Login stays at recovery_code_required (recovery_pending is kept): only a new reset helps.
      // The D1 copy is cleared only if it still names this code's expiry, so a late retry never
      // clears a newer reset's.
      const event: SecurityEvent = { id: newId(), userId, type: "recovery_code_expired", at: now, ip: null, userAgent: null, actorId: expired.issued_by };
      this.record(
        {
          statements: [{ sql: "UPDATE users SET recovery_expires_at = NULL WHERE id = ? AND recovery_expires_at = ?", params: [userId, expired.expires_at] }],
          events: [event],
        },
        now,
      );
    }
    await this.settle();
  }

  private refuse(caller: Caller): Refusal {
    if (countFailure(this.sql, caller.now)) {
      this.record({ statements: [], events: [this.event(caller, "locked_out")], mailTo: caller.user.email }, caller.now);
    }
    return { ok: false, reason: "invalid" };
  }

  /**
   * The checks every call from a session starts with, and repeats after each
   * await: the caller's stage allows the call (the route checked it too), and
   * its session has not been ended by a newer epoch.
   */
  private refuseSession(caller: SessionCaller, allowed: readonly Stage[]): { ok: false; reason: "wrong_stage" | "stale_session" } | null {
    this.bind(caller);
    if (!allowed.includes(caller.stage)) return { ok: false, reason: "wrong_stage" };
    if (this.stale(caller)) return { ok: false, reason: "stale_session" };
    return null;
  }

  /** A verification's admission: stage, epoch, then the lock. Called before and after every await. */
  private admit(caller: SessionCaller, allowed: readonly Stage[]): Refusal | null {
    const refused = this.refuseSession(caller, allowed);
    if (refused) return refused;
    const wait = lockRemaining(readState(this.sql), caller.now);
    return wait > 0 ? { ok: false, reason: "locked", retryAfter: wait } : null;
  }

  // ---- login -----------------------------------------------------------

  loginState(caller: Caller): LoginState {
    this.bind(caller);
    const state = readState(this.sql);
    if (state.recovery_pending) return { stage: "recovery", methods: [], preferred: null, epoch: state.epoch };
    const types = methodTypes(this.sql);
    if (types.length === 0) return { stage: "authenticated", methods: [], preferred: null, epoch: state.epoch };
    const preferred = effectivePreferred(state, types);
    const methods: LoginState["methods"] = preferred ? [preferred, ...types.filter((t) => t !== preferred)] : [...types];
    if (backupCodesRemaining(this.sql) > 0) methods.push("backup_code");
    return { stage: "second_factor", methods, preferred, epoch: state.epoch };
  }

  summary(): GuardSummary {
    const state = readState(this.sql);
    const methods = listMethods(this.sql);
    const recovery = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM recovery").toArray()[0];
    return {
      enabled: methods.length > 0,
      preferred: effectivePreferred(state, methodTypes(this.sql)),
      methods,
      backupCodesRemaining: backupCodesRemaining(this.sql),
      recoveryExpiresAt: recovery?.expires_at ?? null,
    };
  }

  private passwordBucket(now: number): BucketState | null {
    const s = readState(this.sql);
    return s.password_tokens === null ? null : { tokens: s.password_tokens, at: s.password_tokens_at ?? now };
  }

  /** Re-entered passwords are slowed per account, like login: a token bucket, never a lock. */
  takePasswordAttempt(now: number): TakeResult {
    const { result, state } = take(SUDO_POLICY, this.passwordBucket(now), now);
    if (result.ok) this.sql.exec("UPDATE state SET password_tokens = ?, password_tokens_at = ? WHERE id = 1", state.tokens, state.at);
    return result;
  }

  refundPasswordAttempt(now: number): void {
    const state = giveBack(SUDO_POLICY, this.passwordBucket(now), now);
    this.sql.exec("UPDATE state SET password_tokens = ?, password_tokens_at = ? WHERE id = 1", state.tokens, state.at);
  }

  // ---- second factor ---------------------------------------------------

  async verifyTOTP(caller: SessionCaller, code: string): Promise<VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    const rows = this.sql
      .exec<{ id: string; key_id: string; secret: ArrayBuffer }>("SELECT id, key_id, secret FROM totp WHERE confirmed_at IS NOT NULL")
      .toArray();
    const ring = await this.keyRing();
    const keys = await Promise.all(rows.map((r) => open(ring, r.key_id, new Uint8Array(r.secret), `totp:${caller.user.id}:${r.id}`)));
    // From here on, synchronous: the lock, the step check and the claim happen as one.
    const late = this.admit(caller, SECOND_STEP);
    if (late) return late;
    let claimed: string | null = null;
    rows.forEach((row, i) => {
      if (claimed) return;
      const last = this.sql.exec<{ last_step: number }>("SELECT last_step FROM totp WHERE id = ?", row.id).toArray()[0];
      if (!last) return;
      const check = checkTOTP(keys[i] as Uint8Array, code, caller.now, last.last_step);
      if (!check.ok) return;
      const won = this.sql
        .exec("UPDATE totp SET last_step = ?, last_used_at = ? WHERE id = ? AND last_step < ? RETURNING id", check.step, caller.now, row.id, check.step)
        .toArray();
      if (won.length === 1) claimed = row.id;
    });
    if (!claimed) {
      const refusal = this.refuse(caller);
      await this.settle();
      return refusal;
    }
    clearFailures(this.sql);
    const index = rows.findIndex((r) => r.id === claimed);
    await this.resealIfRotated(ring, caller.user.id, rows[index] as { id: string; key_id: string }, keys[index] as Uint8Array);
    return { ok: true, methodId: claimed, methodType: "totp" };
  }

  /**
   * Key rotation: a secret still sealed with an older listed key is sealed again
   * with the current one once it is used, so an old key can be retired when the
   * secrets of active users have moved. Runs after the claim: its await cannot
   * come between a check and its write.
   */
  private async resealIfRotated(ring: KeyRing, userId: string, row: { id: string; key_id: string }, key: Uint8Array): Promise<void> {
    if (row.key_id === ring.currentId) return;
    const { keyId, box } = await seal(ring, key, `totp:${userId}:${row.id}`);
    this.sql.exec("UPDATE totp SET key_id = ?, secret = ? WHERE id = ? AND key_id = ?", keyId, box, row.id, row.key_id);
  }

  async verifyBackupCode(caller: SessionCaller, code: string): Promise<VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    const params = backupHashParams(readState(this.sql));
    // The costly hash comes first; the lock check and the claim after it are one synchronous step.
    const hash = params ? await hashBackupCode(caller.user.id, code, params) : null;
    const late = this.admit(caller, SECOND_STEP);
    if (late) return late;
    const won =
      hash === null ? [] : this.sql.exec("UPDATE backup_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL RETURNING hash", caller.now, hash).toArray();
    if (won.length !== 1) {
      const refusal = this.refuse(caller);
      await this.settle();
      return refusal;
    }
    clearFailures(this.sql);
    const remaining = backupCodesRemaining(this.sql);
    this.record({ statements: [], events: [this.event(caller, "backup_code_used", { remaining })], mailTo: caller.user.email }, caller.now);
    await this.settle();
    return { ok: true, methodId: null, methodType: "backup_code" };
  }

  /**
   * The recovery code: spent when accepted (the row is deleted in the claim).
   * The claim is remembered for the claiming session until its own lifetime
   * ends, so when the Worker's D1 write that moves that session on fails, the
   * same session giving the same code again is accepted again (nothing is
   * recorded twice) instead of stranding the user until a new reset. Any other
   * session is refused as before.
   */
  async verifyRecoveryCode(caller: SessionCaller, code: string): Promise<VerifyResult> {
    const early = this.admit(caller, RECOVERY);
    if (early) return early;
    const row = this.sql.exec<{ salt: string; iterations: number }>("SELECT salt, iterations FROM recovery WHERE id = 1").toArray()[0];
    const claim = caller.sessionId
      ? this.sql
          .exec<{ hash: string; salt: string; iterations: number }>(
            "SELECT hash, salt, iterations FROM recovery_claims WHERE session_id = ? AND until > ?",
            caller.sessionId,
            caller.now,
          )
          .toArray()[0]
      : undefined;
    // A new reset deletes every claim, so at most one of the two applies.
    const params = row ?? claim;
    const hash = params && readState(this.sql).recovery_pending ? await hashRecoveryCode(caller.user.id, code, params) : null;
    const late = this.admit(caller, RECOVERY);
    if (late) return late;
    if (hash !== null && claim && !row && timingSafeEqual(utf8(hash), utf8(claim.hash))) {
      clearFailures(this.sql);
      return { ok: true, methodId: null, methodType: "recovery_code" };
    }
    // Deleting the row is the claim: spent once accepted, and the expiry is checked here
    // too because the alarm that deletes expired codes may be late.
    const won =
      hash === null || !readState(this.sql).recovery_pending
        ? []
        : this.sql.exec("DELETE FROM recovery WHERE id = 1 AND hash = ? AND expires_at > ? RETURNING id", hash, caller.now).toArray();
    if (won.length !== 1 || !row) {
      const refusal = this.refuse(caller);
      await this.settle();
      return refusal;
    }
    clearFailures(this.sql);
    if (caller.sessionId) {
      this.sql.exec(
        "INSERT OR REPLACE INTO recovery_claims (session_id, hash, salt, iterations, until) VALUES (?, ?, ?, ?, ?)",
        caller.sessionId,
        hash,
        row.salt,
        row.iterations,
        caller.now + HALF_SESSION_MS,
      );
    }
    this.record(
      {
        statements: [{ sql: "UPDATE users SET recovery_expires_at = NULL WHERE id = ?", params: [caller.user.id] }],
        events: [this.event(caller, "recovery_code_used")],
        mailTo: caller.user.email,
      },
      caller.now,
    );
    await this.settle();
    return { ok: true, methodId: null, methodType: "recovery_code" };
  }

  // ---- authenticator apps ----------------------------------------------

  async startTOTP(caller: SessionCaller, name: string): Promise<Outcome<{ id: string; secret: Uint8Array }>> {
    const refused = this.refuseSession(caller, ENROLLING);
    if (refused) return refused;
    const id = newId();
    const secret = randomBytes(20); // 160 bits, RFC 4226 §4 R6's recommended length
    const { keyId, box } = await seal(await this.keyRing(), secret, `totp:${caller.user.id}:${id}`);
    this.sql.exec("DELETE FROM totp WHERE confirmed_at IS NULL AND pending_expires_at <= ?", caller.now);
    this.sql.exec(
      `DELETE FROM totp WHERE id IN (SELECT id FROM totp WHERE confirmed_at IS NULL ORDER BY created_at DESC LIMIT -1 OFFSET ?)`,
      MAX_PENDING_ENROLLMENTS - 1,
    );
    this.sql.exec(
      "INSERT INTO totp (id, name, key_id, secret, created_at, pending_expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      name,
      keyId,
      box,
      caller.now,
      caller.now + ENROLLMENT_TTL_MS,
    );
    await this.rearm();
    return { ok: true, id, secret };
  }

  async confirmTOTP(caller: SessionCaller, id: string, code: string): Promise<Outcome<MethodConfirmed>> {
    const refused = this.refuseSession(caller, ENROLLING);
    if (refused) return refused;
    const row = this.sql
      .exec<{ key_id: string; secret: ArrayBuffer }>(
        "SELECT key_id, secret FROM totp WHERE id = ? AND confirmed_at IS NULL AND pending_expires_at > ?",
        id,
        caller.now,
      )
      .toArray()[0];
    if (!row) return { ok: false, reason: "not_found" };
    const key = await open(await this.keyRing(), row.key_id, new Uint8Array(row.secret), `totp:${caller.user.id}:${id}`);
    const check = checkTOTP(key, code, caller.now, -1);
    if (!check.ok) return { ok: false, reason: "invalid" };
    const fresh = await this.prepareBackupCodes(caller.user.id);
    // Read again after the awaits: a reset or a disable meanwhile ended this session.
    const late = this.refuseSession(caller, ENROLLING);
    if (late) return late;
    const wasEnabled = listMethods(this.sql).length > 0;
    // The confirming code's step becomes the last accepted one: it cannot log in again (RFC 6238 §5.2).
    const won = this.sql
      .exec(
        "UPDATE totp SET confirmed_at = ?, pending_expires_at = NULL, last_step = ? WHERE id = ? AND confirmed_at IS NULL RETURNING id",
        caller.now,
        check.step,
        id,
      )
      .toArray();
    if (won.length !== 1) return { ok: false, reason: "not_found" };
    const result = this.methodAdded(caller, id, "totp", wasEnabled ? null : fresh);
    await this.settle();
    return result;
  }

  /**
   * Shared tail of every confirmed enrollment: the first method turns 2FA on,
   * issues ten backup codes, ends a recovery and ends every other session of
   * the user (a password-only session an attacker opened before must not
   * outlive it); every one is logged and mailed.
   */
  private methodAdded(
    caller: Caller,
    id: string,
    type: MethodType,
    /** Codes prepared for this enrollment when it is the first method; null when 2FA was already on. */
    fresh: PreparedCodes | null,
    leading: Statement[] = [],
  ): { ok: true } & MethodConfirmed {
    const method = listMethods(this.sql).find((m) => m.id === id) as MethodView;
    const statements: Statement[] = [
      ...leading,
      {
        sql: "INSERT OR IGNORE INTO methods (id, user_id, type, name, created_at) VALUES (?, ?, ?, ?, ?)",
        params: [id, caller.user.id, type, method.name, Date.parse(method.createdAt)],
      },
    ];
    const events = [this.event(caller, "method_added", { methodId: id, methodType: type, methodName: method.name })];
    let backupCodes: string[] | null = null;
    let epoch: number | null = null;
    if (fresh) {
      backupCodes = this.replaceBackupCodes(fresh);
      this.sql.exec("UPDATE state SET preferred = ?, recovery_pending = 0 WHERE id = 1", type);
      this.sql.exec("DELETE FROM recovery_claims");
      epoch = bumpEpoch(this.sql);
      statements.push(
        {
          sql: "UPDATE users SET two_factor_enabled = 1, preferred = ?, recovery_expires_at = NULL WHERE id = ?",
          params: [type, caller.user.id],
        },
        ...epochStatements(caller.user.id, epoch, caller.sessionId),
      );
      events.unshift(this.event(caller, "two_factor_enabled"));
    }
    this.record({ statements, events, mailTo: caller.user.email }, caller.now);
    return { ok: true, method, backupCodes, epoch };
  }

  /**
   * Ten new codes and their hashes, computed before the synchronous step that
   * stores them (hashing awaits WebCrypto).
   */
  private async prepareBackupCodes(userId: string): Promise<PreparedCodes> {
    const codes = generateBackupCodes();
    const params = newCodeHashParams(codeHashIterations(this.env));
    const hashes = await Promise.all(codes.map((c) => hashBackupCode(userId, c, params) as Promise<string>));
    return { codes, hashes, params };
  }

  private replaceBackupCodes(fresh: PreparedCodes): string[] {
    this.sql.exec("DELETE FROM backup_codes");
    for (const hash of fresh.hashes) this.sql.exec("INSERT INTO backup_codes (hash) VALUES (?)", hash);
    this.sql.exec("UPDATE state SET backup_salt = ?, backup_iterations = ? WHERE id = 1", fresh.params.salt, fresh.params.iterations);
    return fresh.codes;
  }

  // ---- security keys (logic in src/factors/webauthn/) -------------------

  /** A fresh single-use challenge (5 minutes) and the user's keys, for either ceremony's options. */
  async webAuthnChallenge(caller: SessionCaller, purpose: ChallengePurpose): Promise<Outcome<{ challenge: string; keys: CredentialDescriptor[] }>> {
    const refused = this.refuseSession(caller, purpose === "authentication" ? SECOND_STEP : ENROLLING);
    if (refused) return refused;
    const { challenge } = issueChallenge(this.sql, purpose, caller.now);
    await this.rearm();
    return { ok: true, challenge, keys: listCredentials(this.sql) };
  }

  async registerWebAuthn(caller: SessionCaller, name: string, response: unknown, rp: RelyingParty): Promise<Outcome<MethodConfirmed>> {
    const refused = this.refuseSession(caller, ENROLLING);
    if (refused) return refused;
    const check = await verifyRegistration(this.sql, { response, rp, now: caller.now });
    if (!check.ok) return { ok: false, reason: "invalid" };
    const { credential } = check;
    // This guard knows only its own user's keys; D1's unique index knows everyone's.
    const elsewhere = await this.env.DB.prepare("SELECT 1 FROM methods WHERE credential_id = ?").bind(credential.credentialId).first();
    const fresh = await this.prepareBackupCodes(caller.user.id);
    // Read again after the awaits: a reset or a disable meanwhile ended this session.
    const late = this.refuseSession(caller, ENROLLING);
    if (late) return late;
    const id = newId();
    const wasEnabled = listMethods(this.sql).length > 0;
    if (elsewhere || !insertCredential(this.sql, id, name, credential, caller.now)) return { ok: false, reason: "exists" };
    // Inserted before methodAdded's own INSERT OR IGNORE, so the listing row carries the
    // credential id; should another account win a race for it, the row still appears without it.
    const listing: Statement = {
      sql: "INSERT OR IGNORE INTO methods (id, user_id, type, name, created_at, credential_id) VALUES (?, ?, 'webauthn', ?, ?, ?)",
      params: [id, caller.user.id, name, caller.now, credential.credentialId],
    };
    const result = this.methodAdded(caller, id, "webauthn", wasEnabled ? null : fresh, [listing]);
    await this.settle();
    return result;
  }

  /**
   * The second step with a key: refusals count toward the same lockout as codes.
   * The signature check awaits; the lock is read again after it, in the same
   * synchronous step as the count or the acceptance, so a lock set meanwhile
   * answers this attempt too (429), right key or wrong, and is never lowered.
   */
  async verifyWebAuthn(caller: SessionCaller, response: unknown, rp: RelyingParty): Promise<VerifyResult> {
    const early = this.admit(caller, SECOND_STEP);
    if (early) return early;
    // verifyAssertion claims the challenge before its first await: same step as admit(),
    // so this attempt takes its place in the order of attempts here, not when the
    // signature check returns.
    const check = await verifyAssertion(this.sql, { response, rp, userId: caller.user.id, now: caller.now });
    const late = this.admit(caller, SECOND_STEP);
    if (late) return late;
    const accepted = check.ok ? acceptAssertion(this.sql, check, caller.now) : check;
    if (accepted.ok) {
      clearFailures(this.sql);
      return { ok: true, methodId: accepted.id, methodType: "webauthn" };
    }
    const refusal = this.refuse(caller);
    if (accepted.reason === "counter") {
      const data = {
        methodId: accepted.id,
        methodType: "webauthn",
        methodName: accepted.name,
        storedCounter: accepted.stored,
        seenCounter: accepted.seen,
      };
      this.record({ statements: [], events: [this.event(caller, "key_counter_anomaly", data)], mailTo: caller.user.email }, caller.now);
    }
    await this.settle();
    return refusal;
  }

  // ---- managing methods ------------------------------------------------

  async renameMethod(caller: SessionCaller, id: string, name: string): Promise<Outcome<{ method: MethodView }>> {
    const refused = this.refuseSession(caller, FULL);
    if (refused) return refused;
    const method = listMethods(this.sql).find((m) => m.id === id);
    if (!method) return { ok: false, reason: "not_found" };
    this.sql.exec(`UPDATE ${method.type === "totp" ? "totp" : "webauthn"} SET name = ? WHERE id = ?`, name, id);
    this.record(
      {
        statements: [{ sql: "UPDATE methods SET name = ? WHERE id = ? AND user_id = ?", params: [name, id, caller.user.id] }],
        events: [this.event(caller, "method_renamed", { methodId: id, methodType: method.type, methodName: name, previousName: method.name })],
      },
      caller.now,
    );
    await this.settle();
    return { ok: true, method: { ...method, name } };
  }

  async removeMethod(caller: SessionCaller, id: string): Promise<Outcome<{ epoch: number }>> {
    const refused = this.refuseSession(caller, FULL);
    if (refused) return refused;
    const methods = listMethods(this.sql);
    const method = methods.find((m) => m.id === id);
    if (!method) return { ok: false, reason: "not_found" };
    if (methods.length === 1) return { ok: false, reason: "last_method" };
    this.sql.exec(`DELETE FROM ${method.type === "totp" ? "totp" : "webauthn"} WHERE id = ?`, id);
    const epoch = bumpEpoch(this.sql);
    const preferred = effectivePreferred(readState(this.sql), methodTypes(this.sql));
    this.sql.exec("UPDATE state SET preferred = ? WHERE id = 1", preferred);
    this.record(
      {
        statements: [
          { sql: "DELETE FROM methods WHERE id = ? AND user_id = ?", params: [id, caller.user.id] },
          { sql: "UPDATE users SET preferred = ? WHERE id = ?", params: [preferred, caller.user.id] },
          ...epochStatements(caller.user.id, epoch, caller.sessionId),
        ],
        events: [this.event(caller, "method_removed", { methodId: id, methodType: method.type, methodName: method.name })],
        mailTo: caller.user.email,
      },
      caller.now,
    );
    await this.settle();
    return { ok: true, epoch };
  }

  async setPreferred(caller: SessionCaller, type: MethodType): Promise<Outcome<{ preferred: MethodType }>> {
    const refused = this.refuseSession(caller, FULL);
    if (refused) return refused;
    if (!methodTypes(this.sql).includes(type)) return { ok: false, reason: "not_enrolled" };
    this.sql.exec("UPDATE state SET preferred = ? WHERE id = 1", type);
    this.record(
      {
        statements: [{ sql: "UPDATE users SET preferred = ? WHERE id = ?", params: [type, caller.user.id] }],
        events: [this.event(caller, "preferred_method_changed", { methodType: type })],
      },
      caller.now,
    );
    await this.settle();
    return { ok: true, preferred: type };
  }

  async regenerateBackupCodes(caller: SessionCaller): Promise<Outcome<{ codes: string[] }>> {
    const refused = this.refuseSession(caller, FULL);
    if (refused) return refused;
    if (listMethods(this.sql).length === 0) return { ok: false, reason: "not_enrolled" };
    const fresh = await this.prepareBackupCodes(caller.user.id);
    const late = this.refuseSession(caller, FULL);
    if (late) return late;
    if (listMethods(this.sql).length === 0) return { ok: false, reason: "not_enrolled" };
    const codes = this.replaceBackupCodes(fresh);
    this.record(
      { statements: [], events: [this.event(caller, "backup_codes_regenerated", { count: BACKUP_CODE_COUNT })], mailTo: caller.user.email },
      caller.now,
    );
    await this.settle();
    return { ok: true, codes };
  }

  async disable(caller: SessionCaller): Promise<Outcome<{ epoch: number }>> {
    const refused = this.refuseSession(caller, FULL);
    if (refused) return refused;
    const wasEnabled = listMethods(this.sql).length > 0;
    this.wipeFactors();
    const epoch = bumpEpoch(this.sql);
    this.record(
      {
        statements: [
          { sql: "DELETE FROM methods WHERE user_id = ?", params: [caller.user.id] },
          { sql: "UPDATE users SET two_factor_enabled = 0, preferred = NULL WHERE id = ?", params: [caller.user.id] },
          ...epochStatements(caller.user.id, epoch, caller.sessionId),
        ],
        events: wasEnabled ? [this.event(caller, "two_factor_disabled")] : [],
        mailTo: caller.user.email,
      },
      caller.now,
    );
    await this.settle();
    return { ok: true, epoch };
  }

  private wipeFactors(): void {
    this.sql.exec("DELETE FROM totp");
    this.sql.exec("DELETE FROM webauthn");
    this.sql.exec("DELETE FROM backup_codes");
    this.sql.exec("DELETE FROM challenges");
    this.sql.exec("UPDATE state SET preferred = NULL WHERE id = 1");
  }

  // ---- admin reset -----------------------------------------------------

  /**
   * An admin's reset, as one step: every method and backup code goes, every
   * session dies (epoch), a lock is cleared, and one recovery code replaces any
   * unused one. `caller` is the member; `admin` acts.
   */
  async adminReset(
    caller: Caller,
    admin: { id: string; name: string; stage: Stage; communityId?: string; communityName?: string },
    /** The other admins to tell, when the member reset is an admin of the community (recorded in the same step). */
    notify: { id: string; email: string }[] = [],
  ): Promise<{ ok: true; recoveryCode: string; expiresAt: number } | { ok: false; reason: "wrong_stage" }> {
    this.bind(caller);
    // Defence in depth, as for the user's own calls: only a fully logged-in admin resets.
    if (!FULL.includes(admin.stage)) return { ok: false, reason: "wrong_stage" };
    const code = generateRecoveryCode();
    const params = newCodeHashParams(codeHashIterations(this.env));
    const hash = await hashRecoveryCode(caller.user.id, code, params);
    const expiresAt = caller.now + RECOVERY_CODE_TTL_MS;
    this.wipeFactors();
    clearFailures(this.sql);
    this.sql.exec("UPDATE state SET recovery_pending = 1 WHERE id = 1");
    this.sql.exec("DELETE FROM recovery_claims");
    this.sql.exec(
      "INSERT OR REPLACE INTO recovery (id, hash, salt, iterations, issued_by, issued_at, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
      hash,
      params.salt,
      params.iterations,
      admin.id,
      caller.now,
      expiresAt,
    );
    const epoch = bumpEpoch(this.sql);
    const where: Record<string, string> = admin.communityId ? { communityId: admin.communityId } : {};
    const issued = { ...this.event(caller, "recovery_code_issued", { expiresAt: new Date(expiresAt).toISOString(), ...where }), actorId: admin.id };
    const adminEvent = { ...this.event(caller, "member_reset", { memberId: caller.user.id, ...where }), userId: admin.id, actorId: admin.id };
    this.record(
      {
        statements: [
          { sql: "DELETE FROM methods WHERE user_id = ?", params: [caller.user.id] },
          { sql: "UPDATE users SET two_factor_enabled = 0, preferred = NULL, recovery_expires_at = ? WHERE id = ?", params: [expiresAt, caller.user.id] },
          ...epochStatements(caller.user.id, epoch),
        ],
        events: [issued, adminEvent],
        mailTo: caller.user.email,
        actor: admin.communityName !== undefined ? { name: admin.name, communityName: admin.communityName } : { name: admin.name },
      },
      caller.now,
    );
    if (notify.length > 0) {
      const notice = adminResetNotice({
        actorName: admin.name,
        targetName: caller.user.name,
        targetEmail: caller.user.email,
        communityName: admin.communityName ?? "",
        at: caller.now,
      });
      for (const other of notify) recordMail(this.sql, { to: other.email, ...notice }, { userId: other.id, template: "admin_reset_notice" }, caller.now);
    }
    await this.settle();
    return { ok: true, recoveryCode: code, expiresAt };
  }

  /**
   * A membership ended (the user left, or an admin removed them; the route has
   * deleted the row): the user's log and inbox learn it, since its admins can
   * no longer reset their 2FA.
   */
  async membershipEnded(caller: Caller, change: { communityId: string; communityName: string; removedBy: { id: string; name: string } | null }): Promise<void> {
    this.bind(caller);
    const type = change.removedBy ? "member_removed" : "member_left";
    const event = {
      ...this.event(caller, type, { communityId: change.communityId, communityName: change.communityName }),
      actorId: change.removedBy?.id ?? null,
    };
    const effect: Effect = { statements: [], events: [event], mailTo: caller.user.email };
    if (change.removedBy) effect.actor = { name: change.removedBy.name };
    this.record(effect, caller.now);
    await this.settle();
  }

  /** An email that is not about this user's own security (an invitation they sent). */
  async sendMail(caller: Caller, mail: { to: string; subject: string; text: string; template: string }, statements: Statement[] = []): Promise<void> {
    this.bind(caller);
    recordMail(this.sql, { to: mail.to, subject: mail.subject, text: mail.text }, { userId: null, template: mail.template }, caller.now, statements);
    await this.settle();
  }
}

interface PreparedCodes {
  codes: string[];
  hashes: string[];
  params: CodeHashParams;
}

function backupHashParams(state: { backup_salt: string | null; backup_iterations: number | null }): CodeHashParams | null {
  return state.backup_salt && state.backup_iterations ? { salt: state.backup_salt, iterations: state.backup_iterations } : null;
}

export function guardFor(env: Env, userId: string): DurableObjectStub<UserGuard> {
  return env.USER_GUARD.get(env.USER_GUARD.idFromName(userId));
}
