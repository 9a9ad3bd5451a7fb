import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type BucketPolicy, type BucketState, giveBack, type TakeResult, take } from "../guard/bucket";

/**
 * Slows password guessing down without ever locking an account: one object per
 * throttled key (an email's hash, a client address). A failed password spends
 * a token; an empty bucket answers with the wait until the next one. The count
 * lives here, not in module state, because every isolate must see the same one.
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
}

export function throttleFor(env: Env, key: string): DurableObjectStub<Throttle> {
  return env.THROTTLE.get(env.THROTTLE.idFromName(key));
}
