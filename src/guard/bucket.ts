/**
 * A token bucket as a pure function: `capacity` attempts at once, then one more
 * every `refillMs`. Used to slow password guessing without ever locking.
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

/** Per email (known or not): 10 wrong passwords at once, then one a minute. */
export const EMAIL_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };
/** Per client address: room for an office behind one NAT, then one every 3 s. */
export const CLIENT_POLICY: BucketPolicy = { capacity: 100, refillMs: 3_000 };
/**
 * Signups per client address: a classroom behind one NAT at once, then one
 * every 90 seconds (40 an hour): well below the 300 the contract bounds.
 * Every signup spends a token (each costs a password hash and may answer 409
 * email_taken), so no refund.
 */
export const SIGNUP_CLIENT_POLICY: BucketPolicy = { capacity: 40, refillMs: 90_000 };
/** Signups per email (known or not): a few retries, then one every 10 minutes. */
export const SIGNUP_EMAIL_POLICY: BucketPolicy = { capacity: 5, refillMs: 10 * 60_000 };

/** When a bucket is full again, from which on its state says nothing a fresh bucket would not. */
export function fullAt(policy: BucketPolicy, state: BucketState): number {
  return state.at + Math.max(0, Math.ceil(policy.capacity - state.tokens)) * policy.refillMs;
}
/** Re-entered passwords (reauth, disable, admin reset), per account, in its guard. */
export const SUDO_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };
