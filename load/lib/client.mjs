import { createServer } from "node:net";
// Shared by the load test (load/) and the benchmarks (bench/):
// an HTTP client with its own cookie jar and client address, latency recording
// and TOTP codes from the independent `otpauth` library (never our own code).
import * as OTPAuth from "otpauth";

export const PASSWORD = "correct horse battery staple, loaded";

let clientCounter = 0;
let emailCounter = 0;

/**
 * A distinct client address per simulated client: the login throttle keys its
 * per-client bucket on CF-Connecting-IP, and each address is only a header
 * value (every request goes to loopback).
 */
export function nextClientIp() {
  clientCounter += 1;
  const n = clientCounter;
  return `198.18.${(n >> 8) & 255}.${n & 255}`;
}

export function uniqueEmail(prefix = "load") {
  emailCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${emailCounter}@example.com`;
}

/** Latency samples per label, in milliseconds. */
export class Recorder {
  constructor() {
    this.samples = new Map();
  }

  add(label, ms) {
    let list = this.samples.get(label);
    if (!list) {
      list = [];
      this.samples.set(label, list);
    }
    list.push(ms);
  }

  summary(label) {
    return summarize(this.samples.get(label) ?? []);
  }

  labels() {
    return [...this.samples.keys()].sort();
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

export function median(list) {
  return percentile(
    [...list].sort((a, b) => a - b),
    50,
  );
}

/**
 * One simulated browser: keeps `__Host-session` like a browser would (Node's
 * fetch keeps no cookies), sends its own client address, records latency per
 * endpoint label. Every request has a timeout, so no run can hang.
 *
 * `browser` is what outlives one login in a real browser: the `__Host-device`
 * cookie the service sets at a correct password. Clients given the same
 * `browser` object are later visits from one browser (a returning user, no
 * new-browser alert); without one, every client is a browser never seen before.
 */
export class Client {
  constructor(base, { recorder = null, ip = nextClientIp(), timeoutMs = 30_000, browser = { device: null } } = {}) {
    this.base = base;
    this.recorder = recorder;
    this.ip = ip;
    this.timeoutMs = timeoutMs;
    this.cookie = null;
    this.browser = browser;
  }

  async request(method, path, body, label = `${method} ${path}`) {
    const headers = { "CF-Connecting-IP": this.ip, "User-Agent": "edge-2fa-load/1" };
    const cookies = [];
    if (this.cookie) cookies.push(`__Host-session=${this.cookie}`);
    if (this.browser.device) cookies.push(`__Host-device=${this.browser.device}`);
    if (cookies.length) headers.Cookie = cookies.join("; ");
    let payload;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const started = performance.now();
    const res = await fetch(this.base + path, { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    const ms = performance.now() - started;
    this.recorder?.add(label, ms);
    for (const set of res.headers.getSetCookie()) {
      const session = /^__Host-session=([^;]*)/.exec(set);
      if (session) this.cookie = session[1] || null;
      const device = /^__Host-device=([^;]*)/.exec(set);
      if (device) this.browser.device = device[1] || null;
    }
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = { unparsable: text.slice(0, 200) };
      }
    }
    return { status: res.status, body: json, ms, headers: res.headers };
  }

  post(path, body, label) {
    return this.request("POST", path, body, label);
  }

  get(path, label) {
    return this.request("GET", path, undefined, label);
  }
}

/** The code an authenticator app would show, computed with `otpauth`. */
export function totpCode(secret, timestamp = Date.now()) {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({ timestamp });
}

export function stepOf(timestamp = Date.now()) {
  return Math.floor(timestamp / 30_000);
}

export function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
  return res;
}

/**
 * Signs up a user and turns on an authenticator app through the real API
 * (signup, login, reauth, POST /api/security/totp, confirm). The app is
 * confirmed with the previous step's code so the current step stays free for
 * the next login. Returns the client holding an `authenticated` session.
 */
export async function newTOTPUser(base, { recorder = null, prefix = "load", community, extraApps = 0 } = {}) {
  const client = new Client(base, { recorder });
  const email = uniqueEmail(prefix);
  const signup = expect(
    await client.post("/api/auth/signup", { email, password: PASSWORD, name: "Load User", ...(community ? { community } : {}) }, "signup"),
    201,
    "signup",
  );
  expect(await client.post("/api/auth/login", { email, password: PASSWORD }, "login"), 200, "login");
  expect(await client.post("/api/security/reauth", { password: PASSWORD }, "reauth"), 204, "reauth");
  const apps = [];
  let backupCodes = [];
  for (let i = 0; i <= extraApps; i++) {
    const start = expect(await client.post("/api/security/totp", { name: `Phone ${i + 1}` }, "totp start"), 201, "totp start");
    // The previous step's code goes stale if the clock crosses a step boundary
    // while the request is in flight; then the new previous step's code is right.
    let confirm;
    let confirmedStep;
    for (let attempt = 0; attempt < 3; attempt++) {
      confirmedStep = stepOf() - 1;
      confirm = await client.post(`/api/security/totp/${start.body.id}/confirm`, { code: totpCode(start.body.secret, Date.now() - 30_000) }, "totp confirm");
      if (confirm.status !== 400 || stepOf() - 1 === confirmedStep) break;
    }
    expect(confirm, 200, "totp confirm");
    if (i === 0) backupCodes = confirm.body.backupCodes ?? [];
    apps.push({ id: start.body.id, secret: start.body.secret, lastStep: stepOf() - 1 });
  }
  // `browser`: the browser this user set up in, which later logins can come back from.
  return { id: signup.body.user.id, email, client, browser: client.browser, apps, secret: apps[0].secret, backupCodes };
}

/** Runs `worker(i)` for i in [0, count) with at most `concurrency` at once. */
export async function pool(count, concurrency, worker) {
  let next = 0;
  const runners = [];
  for (let r = 0; r < Math.min(concurrency, count); r++) {
    runners.push(
      (async () => {
        while (next < count) {
          const i = next++;
          await worker(i);
        }
      })(),
    );
  }
  await Promise.all(runners);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback port in 8850-8869, the range the load test and the benchmarks may use. */
export async function freePort(exclude = new Set()) {
  for (let p = 8850; p <= 8869; p++) {
    if (exclude.has(p)) continue;
    const ok = await new Promise((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(p, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error("no free port in 8850-8869");
}
