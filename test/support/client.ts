import { SELF } from "cloudflare:test";
import { expect } from "vitest";

/** The service as a browser or a script reaches it: requests through the Worker, cookies kept, answers read. */

export const ORIGIN = "http://localhost";

/** A client that keeps the session cookie, as a browser would, and calls from its own address. */
export class Client {
  cookie: string | null = null;
  ip: string;

  constructor(ip = `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`) {
    this.ip = ip;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { "CF-Connecting-IP": this.ip, ...headers };
    if (this.cookie) h.Cookie = [headers.Cookie, `__Host-session=${this.cookie}`].filter(Boolean).join("; ");
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      h["Content-Type"] ??= "application/json";
    }
    const res = await SELF.fetch(`${ORIGIN}${path}`, { method, headers: h, body: payload });
    const set = res.headers.get("Set-Cookie");
    if (set) {
      const m = /__Host-session=([^;]*)/.exec(set);
      if (m) this.cookie = m[1] || null;
    }
    return res;
  }

  get = (path: string) => this.request("GET", path);
  post = (path: string, body?: unknown) => this.request("POST", path, body);
  put = (path: string, body?: unknown) => this.request("PUT", path, body);
  patch = (path: string, body?: unknown) => this.request("PATCH", path, body);
  delete = (path: string) => this.request("DELETE", path);

  async json<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; res: Response }> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, res };
  }
}

/** A request with no helper defaults (no address, no cookie, no content type), for header-level tests. */
export function rawFetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, init);
}

/** Makes every request of this client carry a User-Agent, as a browser's would. */
export function withUserAgent<C extends Client>(client: C, userAgent: string): C {
  const request = client.request.bind(client);
  client.request = (method, path, body, headers = {}) => request(method, path, body, { "User-Agent": userAgent, ...headers });
  return client;
}

/** Makes every request of this client carry an Accept-Language, as a browser's would (the emails' language: docs/email.md). */
export function withLanguage<C extends Client>(client: C, acceptLanguage: string): C {
  const request = client.request.bind(client);
  client.request = (method, path, body, headers = {}) => request(method, path, body, { "Accept-Language": acceptLanguage, ...headers });
  return client;
}

/** Real User-Agent strings, and how an email describes each (src/notify/user-agent.ts). */
export const AGENTS = {
  laptop: ["Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"],
  desk: ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Windows"],
  phone: [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
    "Safari on iOS",
  ],
  guesser: ["curl/8.5.0", "curl"],
  newLaptop: ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari on macOS"],
} as const satisfies Record<string, readonly [string, string]>;

/** The problem+json body of an error answer; throws when the answer is not one. */
export async function problemOf(res: Response): Promise<{ code: string; status: number; detail: string }> {
  if (!res.headers.get("Content-Type")?.startsWith("application/problem+json"))
    throw new Error(`not a problem: ${res.status} ${res.headers.get("Content-Type")}`);
  return (await res.json()) as { code: string; status: number; detail: string };
}

/** Expects an error answer with this status and contract code; returns its problem body. */
export async function expectProblem(res: Response, status: number, code: string): Promise<{ code: string; status: number; detail: string }> {
  expect(res.status).toBe(status);
  const problem = await problemOf(res);
  expect(problem.code).toBe(code);
  return problem;
}

/** The `__Host-session` entry among a response's Set-Cookie headers (login also sets `__Host-device`). */
export function sessionCookieOf(res: Response): string | null {
  return res.headers.getSetCookie().find((c) => c.startsWith("__Host-session=")) ?? null;
}

/** A Set-Cookie header split into its name, value and attributes. */
export function parseSetCookie(header: string | null): { name: string; value: string; attributes: string[] } | null {
  if (!header) return null;
  const [pair, ...attributes] = header.split(";").map((s) => s.trim());
  const eq = (pair ?? "").indexOf("=");
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/**
 * A client that also keeps `__Host-device`, as a browser does: its later
 * logins come from a browser the account has seen (new-browser alerts, device buckets).
 */
export class BrowserClient extends Client {
  device: string | null = null;

  override async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h = { ...headers };
    if (this.device) h.Cookie = `__Host-device=${this.device}`;
    const res = await super.request(method, path, body, h);
    const set = res.headers.getSetCookie().find((c) => c.startsWith("__Host-device="));
    if (set) this.device = parseSetCookie(set)?.value || null;
    return res;
  }
}
