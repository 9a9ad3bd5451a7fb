/**
 * A token bucket as pure functions: `capacity` attempts at once, then one more
 * every `refillMs`. Used to slow password guessing without ever locking; the
 * state lives wherever the count must be seen alike (a Throttle object, the
 * user's guard).
 */
export interface BucketPolicy {
  capacity: number;
  refillMs: number;
}

export interface BucketState {
  tokens: number;
  at: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfter: number };

export function refill(policy: BucketPolicy, state: BucketState | null, now: number): BucketState {
  if (!state) return { tokens: policy.capacity, at: now };
  const gained = Math.floor((now - state.at) / policy.refillMs);
  if (gained <= 0) return state;
  const tokens = Math.min(policy.capacity, state.tokens + gained);
  return { tokens, at: tokens === policy.capacity ? now : state.at + gained * policy.refillMs };
}

export function take(policy: BucketPolicy, state: BucketState | null, now: number): { result: TakeResult; state: BucketState } {
  const b = refill(policy, state, now);
  if (b.tokens < 1) {
    const retryAfter = Math.max(1, Math.ceil((b.at + policy.refillMs - now) / 1000));
    return { result: { ok: false, retryAfter }, state: b };
  }
  return { result: { ok: true }, state: { tokens: b.tokens - 1, at: b.at } };
}

export function giveBack(policy: BucketPolicy, state: BucketState | null, now: number): BucketState {
  const b = refill(policy, state, now);
  return { tokens: Math.min(policy.capacity, b.tokens + 1), at: b.at };
}

/** When a bucket is full again, from which on its state says nothing a fresh bucket would not. */
export function fullAt(policy: BucketPolicy, state: BucketState): number {
  return state.at + Math.max(0, Math.ceil(policy.capacity - state.tokens)) * policy.refillMs;
}
