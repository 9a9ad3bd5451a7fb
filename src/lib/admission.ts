/**
 * A small async admission queue: at most `limit` tasks run at once, the rest
 * wait in arrival order. A waiting task is a parked promise: it costs no CPU
 * and sits in no event queue, so it delays nobody. A task that throws releases
 * its slot like one that returns.
 *
 * Used per isolate for the password hash (src/auth/passwords.ts): module-level
 * state, which the house rules otherwise forbid. It is allowed there because
 * it holds no user data (only resolvers of promises) and no answer depends on
 * it: with any limit, or with a fresh isolate, every request computes the same
 * result; only the order in which CPU is spent changes (docs/architecture.md
 * "Admission control for the hashes"). The password is hashed only in the
 * Worker's own requests, never inside a Durable Object.
 *
 * The code hashes run inside guards, and each guard has a queue of its own
 * (src/lib/code-hash.ts): a promise one Durable Object made cannot be settled
 * from another's turn and then do I/O, so a queue must never be shared by two
 * Durable Objects (docs/security.md R10g).
 */
export class Admission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** `limit` is read on every admission, so a configured value can be passed per call. */
  async run<T>(limit: number, task: () => Promise<T>): Promise<T> {
    const waited = await this.acquire(Math.max(1, Math.floor(limit) || 1));
    try {
      // A task that waited starts on a timer, not in the microtask of the one before it:
      // queued hashes never run back to back without other requests getting a turn.
      if (waited) await yieldToEventLoop();
      return await task();
    } finally {
      this.release();
    }
  }

  /** Tasks running and waiting now (for tests and diagnostics). */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** Resolves with whether the task had to wait for its slot. */
  private acquire(limit: number): Promise<boolean> {
    if (this.running < limit && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.running++;
        resolve(true);
      });
    });
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}

/**
 * Gives the event loop a turn: WebCrypto's PBKDF2 runs on the isolate's
 * thread and its promise settles without waiting for any I/O, so chained calls
 * joined by `await` alone can run back to back. A timer
 * lets the I/O that completed meanwhile (other requests' D1 and Durable Object
 * answers) run between two chunks.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
