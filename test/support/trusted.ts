import { Client } from "./client";
import { totpCode } from "./codes";
import { PASSWORD } from "./fixtures";

/**
 * A browser that keeps `__Host-trusted` as well as the session cookie, as
 * Chromium would: what "Remember this browser" leaves behind, and what an
 * attacker who copied it would send.
 */
export class TrustedClient extends Client {
  trusted: string | null = null;

  override async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const extra = { ...headers };
    const session = this.cookie;
    if (this.trusted) {
      // Client writes its own Cookie header when it holds a session: this one carries both.
      extra.Cookie = [session ? `__Host-session=${session}` : null, `__Host-trusted=${this.trusted}`].filter(Boolean).join("; ");
      this.cookie = null;
    }
    const res = await super.request(method, path, body, extra);
    if (this.cookie === null && !res.headers.getSetCookie().some((c) => c.startsWith("__Host-session="))) this.cookie = session;
    for (const set of res.headers.getSetCookie()) {
      const m = /^__Host-trusted=([^;]*)/.exec(set);
      if (m) this.trusted = /Max-Age=0\b/i.test(set) ? null : m[1] || null;
    }
    return res;
  }
}

/** A new browser holding a copy of `cookie` (and nothing else): the copied-cookie attack. */
export function browserWith(cookie: string | null): TrustedClient {
  const b = new TrustedClient();
  b.trusted = cookie;
  return b;
}

/** Logs in with the password; answers the login body. */
export async function passwordLogin(browser: TrustedClient, email: string): Promise<{ status: number; body: any }> {
  const res = await browser.json("POST", "/api/auth/login", { email, password: PASSWORD });
  return { status: res.status, body: res.body };
}

/** The full login with a TOTP code, asking (or not) to remember this browser. */
export async function logInRemembering(browser: TrustedClient, email: string, secret: string, rememberBrowser = true): Promise<any> {
  const login = await passwordLogin(browser, email);
  if (login.body.status !== "second_factor_required") throw new Error(`expected the second step, got ${JSON.stringify(login.body)}`);
  const res = await browser.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret), rememberBrowser });
  if (res.status !== 200) throw new Error(`verify failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
