import { env, SELF } from "cloudflare:test";
import * as OTPAuth from "otpauth";

export const ORIGIN = "http://localhost";

/** A client that keeps the session cookie, as a browser would. */
export class Client {
  cookie: string | null = null;
  ip: string;

  constructor(ip = `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`) {
    this.ip = ip;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const h: Record<string, string> = { "CF-Connecting-IP": this.ip, ...headers };
    if (this.cookie) h.Cookie = `__Host-session=${this.cookie}`;
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

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export const PASSWORD = "correct horse battery staple";

export interface TestUser {
  id: string;
  email: string;
  name: string;
  client: Client;
}

/** Signs up and logs in; the client holds an `authenticated` session. */
export async function newUser(opts: { community?: string; name?: string } = {}): Promise<TestUser & { communityId?: string }> {
  const client = new Client();
  const email = uniqueEmail();
  const name = opts.name ?? "Test User";
  const signup = await client.json("POST", "/api/auth/signup", { email, password: PASSWORD, name, ...(opts.community ? { community: opts.community } : {}) });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
  const login = await client.json("POST", "/api/auth/login", { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const user: TestUser & { communityId?: string } = { id: signup.body.user.id, email, name, client };
  if (opts.community) {
    const me = await client.json("GET", "/api/me");
    user.communityId = me.body.communities[0].id;
  }
  return user;
}

/** Codes are computed with the independent `otpauth` library, never with our own TOTP code. */
export function totpCode(secret: string, timestamp = Date.now()): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp });
}

/**
 * The previous step's code, for confirming an enrollment while keeping the
 * current step free for a login right after. Near the end of a step the
 * server could already be in the next one, where the previous step's code is
 * two steps old and refused: wait for a fresh step instead of flaking.
 */
export async function previousStepCode(secret: string): Promise<string> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 4_000) await new Promise((r) => setTimeout(r, left + 50));
  return totpCode(secret, Date.now() - 30_000);
}

export async function reauth(client: Client): Promise<void> {
  const res = await client.post("/api/security/reauth", { password: PASSWORD });
  if (res.status !== 204) throw new Error(`reauth failed: ${res.status}`);
}

/**
 * Turns 2FA on with an authenticator app. The confirming code is the previous
 * step's, so the current step stays free for a login right after.
 */
export async function enableTOTP(client: Client): Promise<{ secret: string; methodId: string; backupCodes: string[] }> {
  await reauth(client);
  const start = await client.json("POST", "/api/security/totp", { name: "Phone" });
  if (start.status !== 201) throw new Error(`totp start failed: ${start.status} ${JSON.stringify(start.body)}`);
  const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
  if (confirm.status !== 200) throw new Error(`totp confirm failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  return { secret: start.body.secret, methodId: confirm.body.method.id, backupCodes: confirm.body.backupCodes ?? [] };
}

export function guard(userId: string) {
  return env.USER_GUARD.get(env.USER_GUARD.idFromName(userId));
}

export async function problemOf(res: Response): Promise<{ code: string; status: number; detail: string }> {
  if (!res.headers.get("Content-Type")?.startsWith("application/problem+json"))
    throw new Error(`not a problem: ${res.status} ${res.headers.get("Content-Type")}`);
  return (await res.json()) as { code: string; status: number; detail: string };
}
