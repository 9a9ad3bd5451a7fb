import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type BucketPolicy, type BucketState, giveBack, type TakeResult, take } from "../guard/bucket";
import { releaseSlot, takeSlot, type WindowPolicy } from "../guard/window";
import { AppError } from "../http/errors";

/**
 * Counts every isolate must see alike, one object per throttled key: a token
 * bucket (password guessing, signups: slowed, never locked) or a sliding
 * window (invitations, admin resets: an exact count per period). A key uses
 * one of the two. The count lives here, not in module state, because every
 * isolate must see the same one.
 */
export class Throttle extends DurableObject<Env> {
  take(policy: BucketPolicy, now = Date.now()): TakeResult {
    const { result, state } = take(policy, this.ctx.storage.kv.get<BucketState>("bucket") ?? null, now);
    if (result.ok) this.ctx.storage.kv.put("bucket", state);
    return result;
  }

  /** Gives back the token of an attempt that turned out to be the right password. */
  refund(policy: BucketPolicy, now = Date.now()): void {
    this.ctx.storage.kv.put("bucket", giveBack(policy, this.ctx.storage.kv.get<BucketState>("bucket") ?? null, now));
  }

  /** One event in the window at `now`, or the wait until there is room. */
  takeSlot(policy: WindowPolicy, now = Date.now()): TakeResult {
    const { result, times } = takeSlot(policy, this.ctx.storage.kv.get<number[]>("window") ?? [], now);
    this.ctx.storage.kv.put("window", times);
    return result;
  }

  /** Gives back the slot taken at `at`: the request it was taken for did not happen. */
  releaseSlot(at: number): void {
    this.ctx.storage.kv.put("window", releaseSlot(this.ctx.storage.kv.get<number[]>("window") ?? [], at));
  }
}

export function throttleFor(env: Env, key: string): DurableObjectStub<Throttle> {
  return env.THROTTLE.get(env.THROTTLE.idFromName(key));
}

/**
 * Takes a slot in every window, or none: when one is full, the slots already
 * taken are given back and the answer is 429 with the longest wait. Returns
 * what to call to give them all back if the request then fails.
 */
export async function takeSlots(env: Env, windows: { key: string; policy: WindowPolicy }[], now: number, detail: string): Promise<() => Promise<void>> {
  const stubs = windows.map((w) => throttleFor(env, w.key));
  const results = await Promise.all(windows.map((w, i) => (stubs[i] as DurableObjectStub<Throttle>).takeSlot(w.policy, now)));
  const release = () => Promise.all(stubs.filter((_s, i) => results[i]?.ok).map((s) => s.releaseSlot(now))).then(() => undefined);
  const waits = results.flatMap((r) => (r.ok ? [] : [r.retryAfter]));
  if (waits.length > 0) {
    await release();
    throw new AppError("too_many_attempts", detail, { retryAfter: Math.max(...waits) });
  }
  return release;
}
