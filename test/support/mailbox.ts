import { env } from "cloudflare:test";
import { type MockInstance, vi } from "vitest";

/**
 * The emails handed to the transport, as the recipient would read them: the
 * real `send_email` binding is called through (Reflect.apply: it is an RPC
 * stub) and each message is kept here. Links are read from the text the way
 * a person would follow them.
 */
export interface Delivered {
  to: string;
  subject: string;
  text: string;
}

export class Mailbox {
  readonly delivered: Delivered[] = [];
  private spy: MockInstance | null = null;

  open(): void {
    const binding = env.EMAIL;
    const real = binding.send;
    this.spy = vi.spyOn(binding, "send").mockImplementation((message: unknown) => {
      const m = message as Delivered;
      this.delivered.push({ to: m.to, subject: m.subject, text: m.text });
      return Reflect.apply(real, binding, [message]);
    });
  }

  close(): void {
    this.spy?.mockRestore();
  }

  to(address: string): Delivered[] {
    return this.delivered.filter((m) => m.to === address);
  }

  /**
   * The token of the next link to `page` for `address`, other than `previous`:
   * for mail sent after the answer (a password reset's, so both answers cost
   * the same), waited for as a condition, never for a fixed time.
   */
  async nextToken(address: string, page: string, previous: string | null = null): Promise<string> {
    return vi.waitFor(
      () => {
        const token = this.lastToken(address, page);
        if (!token || token === previous) throw new Error(`no new link to /${page} was delivered to ${address}`);
        return token;
      },
      { timeout: 10_000, interval: 10 },
    );
  }

  /** The token of the last link to `page` (`/page#token=…`) sent to `address`, or null. */
  lastToken(address: string, page: string): string | null {
    const re = new RegExp(`/${page}#token=([A-Za-z0-9_.-]+)`);
    for (const m of [...this.to(address)].reverse()) {
      const found = re.exec(m.text);
      if (found) return found[1] as string;
    }
    return null;
  }
}
