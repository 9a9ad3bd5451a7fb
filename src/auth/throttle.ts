import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { AppError } from "../http/errors";
import { live, releaseSlot, takeSlot, type WindowPolicy } from "../lib/sliding-window";
import { type BucketPolicy, type BucketState, fullAt, giveBack, type TakeResult, take } from "../lib/token-bucket";

/** A throttle whose state has said nothing for this long deletes it (one object per email ever tried). */
export const IDLE_DELETE_MS = 24 * 60 * 60 * 1000;

/**
 * Counts every isolate must see alike, one object per throttled key: a token
 * bucket (password guessing, signups: slowed, never locked) or a sliding
 * window (invitations, admin resets: an exact count per period). A key uses
 * one of the two. The count lives here, not in module state, because every
 * isolate must see the same one.
 *
 * Storage (kv): `bucket` and its `policy`, or `window` and its `windowMs`, and
 * `touched` (the last write). The first write sets the alarm to a day after the
 * state stops mattering (bucket full again, window empty, last write); the
 * alarm then deletes everything, so the objects of emails tried once do not
 * pile up forever. A bucket given back to full is deleted at once, alarm and
 * all. Later writes leave the alarm alone: one that rings while
 * the state still matters sets the next one from the state it finds. A busy
 * key writes its state and its time, two rows, not four per request (the
 * policy and the alarm only when they change).
 */
export class Throttle extends DurableObject<Env> {
  async take(policy: BucketPolicy, now = Date.now()): Promise<TakeResult> {
    const { result, state } = take(policy, this.ctx.storage.kv.get<BucketState>("bucket") ?? null, now);
    if (result.ok) await this.saveBucket(policy, state, now);
    return result;
  }

  /**
   * Gives back the token of an attempt that turned out to be the right password, or that another bucket refused.
   * A bucket full again says nothing a fresh one would not, so nothing of it is kept: a request refused by its
   * client's empty bucket, which costs it no password hash, gave back the token of a bucket named by an email it
   * made up, and each such object stayed stored, with an alarm, for a day (docs/security.md R11w).
   */
  async refund(policy: BucketPolicy, now = Date.now()): Promise<void> {
    const state = giveBack(policy, this.ctx.storage.kv.get<BucketState>("bucket") ?? null, now);
    if (state.tokens >= policy.capacity) return this.forgetBucket();
    await this.saveBucket(policy, state, now);
  }

  /** One event in the window at `now`, or the wait until there is room. */
  async takeSlot(policy: WindowPolicy, now = Date.now()): Promise<TakeResult> {
    const { result, times } = takeSlot(policy, this.ctx.storage.kv.get<number[]>("window") ?? [], now);
    await this.saveWindow(policy.windowMs, times, now);
    return result;
  }

  /** Gives back the slot taken at `at`: the request it was taken for did not happen. */
  async releaseSlot(at: number, now = Date.now()): Promise<void> {
    const windowMs = this.ctx.storage.kv.get<number>("windowMs");
    if (windowMs === undefined) return;
    await this.saveWindow(windowMs, releaseSlot(this.ctx.storage.kv.get<number[]>("window") ?? [], at), now);
  }

  override async alarm(): Promise<void> {
    const quiet = this.quietSince();
    if (quiet === null || Date.now() >= quiet + IDLE_DELETE_MS) {
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.setAlarm(quiet + IDLE_DELETE_MS);
  }

  // The state is written synchronously (one step with its read); only the alarm is awaited after it.
  private async saveBucket(policy: BucketPolicy, state: BucketState, now: number): Promise<void> {
    const kv = this.ctx.storage.kv;
    kv.put("bucket", state);
    const stored = kv.get<BucketPolicy>("policy");
    if (stored?.capacity !== policy.capacity || stored.refillMs !== policy.refillMs) kv.put("policy", policy);
    kv.put("touched", now);
    await this.armCleanup();
  }

  /** Synchronous deletes (one step with the read that decided them); the alarm, which would find nothing, goes too. */
  private async forgetBucket(): Promise<void> {
    const kv = this.ctx.storage.kv;
    for (const key of ["bucket", "policy", "touched"]) kv.delete(key);
    await this.ctx.storage.deleteAlarm();
  }

  private async saveWindow(windowMs: number, times: number[], now: number): Promise<void> {
    const kv = this.ctx.storage.kv;
    kv.put("window", times);
    if (kv.get<number>("windowMs") !== windowMs) kv.put("windowMs", windowMs);
    kv.put("touched", now);
    await this.armCleanup();
  }

  /**
   * Sets the cleanup alarm when none is set. While the state is used its quiet
   * time moves later, so an alarm set earlier rings early at worst and
   * `alarm()` sets the next one. A refund can move it earlier (a fuller bucket
   * is full sooner): the cleanup then comes later by at most one refill.
   */
  private async armCleanup(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    const quiet = this.quietSince();
    if (quiet !== null) await this.ctx.storage.setAlarm(quiet + IDLE_DELETE_MS);
  }

  /** From when on the stored state says nothing a fresh object would not: null when nothing is stored. */
  private quietSince(): number | null {
    const kv = this.ctx.storage.kv;
    const touched = kv.get<number>("touched");
    if (touched === undefined) return null;
    let quiet = touched;
    const bucket = kv.get<BucketState>("bucket");
    const policy = kv.get<BucketPolicy>("policy");
    if (bucket && policy) quiet = Math.max(quiet, fullAt(policy, bucket));
    const times = kv.get<number[]>("window");
    const windowMs = kv.get<number>("windowMs");
    if (times && windowMs !== undefined) {
      const last = live({ limit: 0, windowMs }, times, touched).at(-1);
      if (last !== undefined) quiet = Math.max(quiet, last + windowMs);
    }
    return quiet;
  }
}

export function throttleFor(env: Env, key: string): DurableObjectStub<Throttle> {
  return env.THROTTLE.get(env.THROTTLE.idFromName(key));
}

/**
 * Takes a token from every bucket. When one is empty the answer says which
 * (`empty`, their keys) and the longest wait; the tokens taken stay taken
 * until `giveBack`. When all had one, `refund` gives them all back (a login
 * whose password was right).
 */
export async function tryTakeTokens(
  env: Env,
  buckets: { key: string; policy: BucketPolicy }[],
  now: number,
): Promise<{ ok: true; refund: () => Promise<void> } | { ok: false; retryAfter: number; empty: string[]; giveBack: () => Promise<void> }> {
  const stubs = buckets.map((b) => throttleFor(env, b.key));
  const results = await Promise.all(buckets.map((b, i) => (stubs[i] as DurableObjectStub<Throttle>).take(b.policy, now)));
  const refund = async (onlyTaken: boolean) => {
    await Promise.all(buckets.map((b, i) => (!onlyTaken || results[i]?.ok ? (stubs[i] as DurableObjectStub<Throttle>).refund(b.policy, now) : undefined)));
  };
  const waits = results.flatMap((r) => (r.ok ? [] : [r.retryAfter]));
  if (waits.length === 0) return { ok: true, refund: () => refund(false) };
  const empty = buckets.filter((_, i) => !results[i]?.ok).map((b) => b.key);
  return { ok: false, retryAfter: Math.max(...waits), empty, giveBack: () => refund(true) };
}

/**
 * Takes a token from every bucket, or none: when one is empty, the tokens
 * already taken go back and the answer is 429 with the longest wait. Returns
 * what gives them all back (a login whose password was right).
 */
export async function takeTokens(env: Env, buckets: { key: string; policy: BucketPolicy }[], now: number, detail: string): Promise<() => Promise<void>> {
  const taken = await tryTakeTokens(env, buckets, now);
  if (taken.ok) return taken.refund;
  // This attempt never ran: give back what the other buckets did spend.
  await taken.giveBack();
  throw new AppError("too_many_attempts", detail, { retryAfter: taken.retryAfter });
}

/**
 * Takes a slot in every window, or none: when one is full, the slots already
 * taken are given back and the answer is 429 with the longest wait. Returns
 * what gives them all back if the request then does not happen.
 */
export async function takeSlots(env: Env, windows: { key: string; policy: WindowPolicy }[], now: number, detail: string): Promise<() => Promise<void>> {
  const stubs = windows.map((w) => throttleFor(env, w.key));
  const results = await Promise.all(windows.map((w, i) => (stubs[i] as DurableObjectStub<Throttle>).takeSlot(w.policy, now)));
  const release = async () => {
    await Promise.all(stubs.map((s, i) => (results[i]?.ok ? s.releaseSlot(now) : undefined)));
  };
  const waits = results.flatMap((r) => (r.ok ? [] : [r.retryAfter]));
  if (waits.length > 0) {
    await release();
    throw new AppError("too_many_attempts", detail, { retryAfter: Math.max(...waits) });
  }
  return release;
}
