import type { TakeResult } from "./token-bucket";

/**
 * A sliding window as pure functions: at most `limit` events in any
 * `windowMs`, exactly (no burst beyond the limit, unlike a token bucket). The
 * state is the times of the events still in the window, oldest first. Used
 * where the contract names a count per period: invitations, admin resets.
 */
export interface WindowPolicy {
  limit: number;
  windowMs: number;
}

/** The events still in the window, oldest first (callers' clocks differ a little: sort). */
export function live(policy: WindowPolicy, times: readonly number[], now: number): number[] {
  return times.filter((t) => t > now - policy.windowMs).sort((a, b) => a - b);
}

/** Takes a slot at `now`, or says when the oldest event that holds the window full leaves it. */
export function takeSlot(policy: WindowPolicy, times: readonly number[], now: number): { result: TakeResult; times: number[] } {
  const inWindow = live(policy, times, now);
  if (inWindow.length >= policy.limit) {
    const freesAt = (inWindow[inWindow.length - policy.limit] as number) + policy.windowMs;
    return { result: { ok: false, retryAfter: Math.max(1, Math.ceil((freesAt - now) / 1000)) }, times: inWindow };
  }
  return { result: { ok: true }, times: [...inWindow, now] };
}

/** Gives back the slot taken at `at` (an attempt that turned out not to happen). */
export function releaseSlot(times: readonly number[], at: number): number[] {
  const i = times.lastIndexOf(at);
  return i === -1 ? [...times] : [...times.slice(0, i), ...times.slice(i + 1)];
}
