import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type KeyRing, loadKeyRing } from "../factors/totp/secret-box";
import { Admission } from "../lib/admission";
import { DEFAULT_LANG, type Lang } from "../notify/language";
import type { Stage } from "../session";
import { keyBareBackupCodes, keyBareRecoveryCode } from "./code-keys";
import { type Change, type Effect, recordEffect } from "./effects";
import { d1Behind, flushEffects } from "./flush";
import * as inFlight from "./in-flight";
import { abandonClaim, claimHeld, type KeyClaim, releaseExpiredClaims } from "./key-claims";
import { migrate } from "./migrations";
import * as reset from "./reset";
import * as state from "./state";
import type * as T from "./types";
import { ENROLLING, FULL } from "./types";
import * as verify from "./verify";

/**
 * What every call of the guard (src/guard/user-guard.ts, its RPC front) is
 * made of: the schema brought up to date before the first call, the entry
 * checks, committing a step's effects (recorded, then flushed), the alarm.
 * Kept apart so the RPC front stays a list of calls.
 */
export abstract class GuardCore extends DurableObject<Env> {
  protected readonly sql: SqlStorage;
  /** This guard's queue for code hashes: its own, never shared with another guard of the isolate (src/lib/code-hash.ts). */
  protected readonly codeHashes = new Admission();
  private ring: Promise<KeyRing> | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage);
      // Best effort: a failure here (ENCRYPTION_KEYS unreadable) must not keep the guard from its other calls;
      // a code's check tries again, and a set or recovery code not yet keyed still works meanwhile.
      await keyBareBackupCodes(this.sql, env.ENCRYPTION_KEYS).catch(() => undefined);
      await keyBareRecoveryCode(this.sql, env.ENCRYPTION_KEYS).catch(() => undefined);
    });
  }

  // ---- an admin's own part in a reset they make (the member's guard makes the reset: UserGuard.adminReset) ----

  /** This guard's user, an admin, begins a reset of `targetId` (reset.beginAdminReset): their session and 2FA, checked as one step. */
  async beginAdminReset(
    caller: T.SessionCaller,
    targetId: string,
    communityId?: string,
  ): Promise<T.Outcome<{ at: number; landed: number[] }> | { ok: false; reason: "not_member" }> {
    const begun = this.enter(caller, FULL) ?? reset.beginAdminReset(this.sql, caller, targetId, communityId);
    if (begun.ok) await this.rearm(); // the alarm deletes the record once it has said what it had to
    return begun;
  }

  /** A begun reset that did not land (reset.endAdminReset); an alarm already set finds nothing more to do. */
  endAdminReset(targetId: string, at: number): void {
    reset.endAdminReset(this.sql, targetId, at);
  }

  /**
   * This guard's user is leaving `communityId`, before D1 deletes the membership (inFlight.leaveCommunity): the
   * resets they began there that may still be on their way are returned, to be withdrawn in their members' guards.
   */
  leaveCommunity(communityId: string): { target: string; beganAt: number }[] {
    return inFlight.leaveCommunity(this.sql, communityId, Date.now());
  }

  /** The leave did not happen (the community's last admin), or the user joins again (inFlight.stayInCommunity). */
  stayInCommunity(communityId: string): void {
    inFlight.stayInCommunity(this.sql, communityId);
  }

  /** A reset of this guard's user, begun by an admin who has since left the community, is refused when it arrives. */
  withdrawReset(adminId: string, beganAt: number): void {
    inFlight.withdrawReset(this.sql, adminId, beganAt, Date.now());
  }

  // ---- the steps every call is made of --------------------------------

  /**
   * The checks every call starts with, and repeats after each await: the user
   * is bound to this guard; with `stages`, the caller's session is in one of
   * them (the route checked it too); a session ended by a newer epoch is refused.
   */
  protected enter(caller: T.Caller, stages?: readonly Stage[], current = state.readState(this.sql)): T.EntryRefusal | null {
    // Written once per guard; a read answers every later call without a storage write.
    if (current.user_id === null) this.sql.exec("UPDATE state SET user_id = ? WHERE id = 1 AND user_id IS NULL", caller.user.id);
    if (stages && !stages.includes((caller as T.SessionCaller).stage)) return { ok: false, reason: "wrong_stage" };
    if (caller.sessionEpoch !== undefined && caller.sessionEpoch < current.epoch) return { ok: false, reason: "stale_session" };
    return null;
  }

  /**
   * A verification's admission: entry, then the lock. Called before and after every await,
   * so both read one row: a step that opens several apps admits once per app.
   */
  protected admit(caller: T.SessionCaller, stages: readonly Stage[]): T.Refusal | null {
    const current = state.readState(this.sql);
    return this.enter(caller, stages, current) ?? state.lockRefusal(current, caller.now);
  }

  /** Records what the step decided (one pending row per effect), then writes D1 and sends mail. */
  protected async commit(at: { now: number; requestId?: string; lang?: Lang }, ...effects: (Effect | null)[]): Promise<void> {
    for (const effect of effects) if (effect) recordEffect(this.sql, effect, at.now, at.lang ?? DEFAULT_LANG);
    const run = this.flushing.then(() => flushEffects(this.sql, this.env, Date.now(), at.requestId));
    this.flushing = run.catch(() => undefined); // one flush at a time per guard
    await run;
    await this.rearm();
  }

  /** A step that changed something commits it; a refused one returns as it is. */
  protected async apply<R>(caller: T.Caller, change: Change<R>): Promise<R> {
    if (change.effect) await this.commit(caller, change.effect);
    return change.result;
  }

  /** A refused attempt: counted toward the lock (and the lock's email), then committed. */
  protected async refuse(caller: T.Caller, ...also: (Effect | null)[]): Promise<T.Refusal> {
    const { refusal, effect } = verify.refuseAttempt(this.sql, caller);
    await this.commit(caller, effect, ...also);
    return refusal;
  }

  /**
   * Commits a key's claim (src/guard/key-claims.ts), a step whose D1 write the call must see land before it
   * goes on, and answers whether D1 kept the claim's row. A session ended meanwhile, or D1 not answering
   * (`unsettled`: whether it holds the row is unknown), takes the claim back.
   */
  protected async settleKeyClaim(
    caller: T.SessionCaller,
    claim: KeyClaim,
    effect: Effect,
  ): Promise<{ ok: true; held: boolean } | T.EntryRefusal | { ok: false; reason: "unsettled" }> {
    await this.commit(caller, effect);
    // Nothing left waiting: the claim's INSERT OR IGNORE ran, and whether D1 kept its row is the answer.
    const held = d1Behind(this.sql) ? null : await claimHeld(this.env.DB, claim).catch(() => null);
    const late = this.enter(caller, ENROLLING);
    if (held !== null && !late) return { ok: true, held };
    await this.commit(caller, abandonClaim(this.sql, claim, held !== false));
    return late ?? { ok: false, reason: "unsettled" };
  }

  /** One alarm, many deadlines: always the earliest in the `deadlines` view. */
  protected async rearm(): Promise<void> {
    const due = this.sql.exec<{ due: number | null }>("SELECT MIN(due) AS due FROM deadlines").one().due;
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(due);
  }

  protected keyRing(): Promise<KeyRing> {
    this.ring ??= loadKeyRing(this.env.ENCRYPTION_KEYS);
    return this.ring;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    await this.commit({ now }, reset.expire(this.sql, now), releaseExpiredClaims(this.sql, now));
  }
}
