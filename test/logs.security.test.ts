import { env, runInDurableObject, SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { ORIGIN } from "./support/client";
import { contains, previousStepCode, spellingsOfCode, spellingsOfTOTPSecret, totpCode } from "./support/codes";
import { proveEmail, uniqueEmail } from "./support/fixtures";
import { opsResetWithSecret } from "./support/ops";
import { guard } from "./support/stores";

/**
 * No password, code, secret, token or cookie ever appears in a log line
 * (docs/security.md). In @cloudflare/vitest-plugin the Worker and its Durable
 * Objects run in this test's isolate, so spying on `console` here captures
 * every line they log. The service logs in two places (`grep -rn "console\."
 * src`): `onError` (src/http/problem.ts), for an internal error and for an
 * error that carries a fixed line of its own (the refusal to take an origin
 * from a request that is not for localhost, src/http/public-origin.ts; a weak
 * OPS_TOKEN, which leaves the operator routes off, src/ops/operator-auth.ts), and
 * the guard's retry warning (src/guard/flush.ts), which a failed D1 write, a
 * failed delivery and a failed outbox update each reach, and its line for an
 * email it gives up (checked word for word, without the address, in
 * test/mail.security.test.ts). Every line ends with
 * the request's id, which the answer carries in X-Request-Id (and a 500 in its
 * body). Every test below drives one of those paths with secrets in its
 * inputs and an error whose message quotes them (as a driver quoting the
 * values it was given would), and checks that the one line it expects
 * arrived, word for word; the last test searches every line this file
 * captured for every secret this file used. The password-reset queue's
 * consumer (src/auth/password-reset-queue.ts) logs as well; its messages hold
 * no secret, and its retry line is checked word for word in
 * test/password-reset-queue.security.test.ts.
 */

const LEVELS = ["log", "info", "warn", "error", "debug", "trace"] as const;
const lines: string[] = [];
const spies: MockInstance[] = [];
let send: MockInstance;

/** Every secret a request of this file carried or was handed, by kind. */
const secrets: { kind: string; value: string }[] = [];
const secret = (kind: string, ...values: string[]) => {
  for (const value of values) secrets.push({ kind, value });
};
/** Every line a test expected and saw. */
const expected: string[] = [];

function format(arg: unknown): string {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}\n${arg.stack ?? ""}`;
  if (typeof arg === "string") return arg;
  try {
    return JSON.stringify(arg) ?? String(arg);
  } catch {
    return String(arg);
  }
}

beforeAll(() => {
  for (const level of LEVELS) {
    spies.push(
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(`[${level}] ${args.map(format).join(" ")}`);
      }),
    );
  }
  const binding = env.EMAIL;
  const real = binding.send;
  // Calls the real binding through (Reflect.apply: the binding is an RPC stub).
  send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => Reflect.apply(real, binding, [message]));
});

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
  send.mockRestore();
});

/** The lines logged while `run` ran. */
async function logged(run: () => Promise<void>): Promise<string[]> {
  const from = lines.length;
  await run();
  return lines.slice(from);
}

/** A browser: keeps every cookie it is given (the session and the device cookie) and sends them all back. */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly ip = `198.51.100.${Math.floor(Math.random() * 250)}`;

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { "CF-Connecting-IP": this.ip };
    if (this.cookies.size > 0) headers.Cookie = this.cookieHeader;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await SELF.fetch(`${ORIGIN}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const set of res.headers.getSetCookie()) {
      const [pair = ""] = set.split(";");
      const eq = pair.indexOf("=");
      const value = pair.slice(eq + 1);
      if (value) {
        this.cookies.set(pair.slice(0, eq), value);
        secret("cookie", value);
      } else this.cookies.delete(pair.slice(0, eq));
    }
    return res;
  }

  async ok<T = any>(method: string, path: string, body?: unknown, status = 200): Promise<T> {
    const res = await this.request(method, path, body);
    const text = await res.text();
    if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }
}

interface Account {
  id: string;
  email: string;
  password: string;
  browser: Browser;
}

/** Signs up and logs in with a password of its own, which joins the secrets. */
async function account(community?: string): Promise<Account> {
  const email = uniqueEmail("logs");
  const password = `pw-${crypto.randomUUID()}-long enough`;
  secret("password", password);
  const browser = new Browser();
  const signup = await browser.ok("POST", "/api/auth/signup", { email, password, name: "Logged", ...(community ? { community } : {}) }, 201);
  await browser.ok("POST", "/api/auth/login", { email, password });
  return { id: signup.user.id, email, password, browser };
}

/** Turns on an authenticator app; its secret and backup codes join the secrets. */
async function withApp(a: Account): Promise<{ secret: string; backupCodes: string[] }> {
  await a.browser.ok("POST", "/api/security/reauth", { password: a.password }, 204);
  const start = await a.browser.ok("POST", "/api/security/totp", { name: "Phone" }, 201);
  secret("TOTP secret", ...spellingsOfTOTPSecret(start.secret));
  const code = await previousStepCode(start.secret);
  secret("TOTP code", code);
  const confirmed = await a.browser.ok("POST", `/api/security/totp/${start.id}/confirm`, { code });
  secret("backup code", ...confirmed.backupCodes.flatMap(spellingsOfCode));
  return { secret: start.secret, backupCodes: confirmed.backupCodes };
}

/** A new browser logged in with the password only: `second_factor` (or `recovery`) when 2FA is on. */
async function halfLogin(a: Account): Promise<Browser> {
  const browser = new Browser();
  // A browser the account knows (its device cookie): the verify then records only the backup-code email,
  // not also a new-browser alert, whose flush would retry the record a test made fail.
  const device = a.browser.cookies.get("__Host-device");
  if (device) browser.cookies.set("__Host-device", device);
  await browser.ok("POST", "/api/auth/login", { email: a.email, password: a.password });
  return browser;
}

/**
 * The next D1 statement whose SQL matches `sql` throws an error quoting
 * `quoted`. The Worker and the guards use this same binding object, so this
 * reaches both; `hit` tells whether it fired.
 */
function failD1(sql: RegExp, quoted: string[]): { hit: () => boolean; restore: () => void } {
  const db = env.DB;
  const real = db.prepare;
  let hit = false;
  const spy = vi.spyOn(db, "prepare").mockImplementation((query: string) => {
    if (!hit && sql.test(query)) {
      hit = true;
      spy.mockRestore();
      throw new Error(`D1_ERROR: statement failed near ${JSON.stringify(quoted.join(" "))}`);
    }
    return Reflect.apply(real, db, [query]);
  });
  return { hit: () => hit, restore: () => spy.mockRestore() };
}

/** Sends one request while `sql` fails, and expects a 500 internal problem and exactly `line` in the log. */
async function internalError(
  browser: Browser,
  method: string,
  path: string,
  body: unknown,
  sql: RegExp,
  line: string,
  alsoQuoted: string[] = [],
): Promise<void> {
  // The error quotes everything the request carried: its body, its cookies, its path.
  const failure = failD1(sql, [JSON.stringify(body ?? null), browser.cookieHeader, path, ...alsoQuoted]);
  let id = "";
  const got = await logged(async () => {
    const res = await browser.request(method, path, body);
    expect(res.status).toBe(500);
    id = res.headers.get("X-Request-Id") ?? "";
    expect(await res.json()).toMatchObject({ code: "internal", requestId: id });
  });
  failure.restore();
  expect(failure.hit()).toBe(true);
  expect(id).toMatch(REQUEST_ID);
  expect(got).toEqual([`${line} (request ${id})`]);
  expected.push(got[0] as string);
}

/** Our ids are UUIDs (an id a client sends is never taken). */
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The loadSession lookup, the first statement of every request that carries a session cookie. */
const SESSION_LOOKUP = /FROM sessions s JOIN users u/;

describe("an internal error is logged as fixed text: the error's class, the method and the route pattern", () => {
  let admin: Account;
  let member: Account;
  let cid = "";
  let app: { secret: string; backupCodes: string[] };

  beforeAll(async () => {
    admin = await account("Logged community");
    cid = (await admin.browser.ok("GET", "/api/me")).communities[0].id;
    member = await account();
    // Accepting needs a proven email (test/squatter.security.test.ts); proven here without the link.
    await proveEmail(member.id);
    const invitation = (await admin.browser.ok("POST", `/api/communities/${cid}/invitations`, { email: member.email, role: "member" }, 201)).invitation;
    await member.browser.ok("POST", `/api/invitations/${invitation.id}/accept`);
    app = await withApp(member);
  });

  it("a failing login: not the password", async () => {
    const password = admin.password;
    await internalError(
      new Browser(),
      "POST",
      "/api/auth/login",
      { email: admin.email, password },
      /FROM users u WHERE u\.email = \?/,
      "[error] internal error in POST /api/auth/login: Error",
    );
  });

  it("a failing re-entered password: not the password, not the cookies", async () => {
    await internalError(
      admin.browser,
      "POST",
      "/api/security/reauth",
      { password: admin.password },
      SESSION_LOOKUP,
      "[error] internal error in POST /api/security/reauth: Error",
    );
  });

  it("a failing second step, after the code was checked: not the TOTP code, the backup code or the session cookie", async () => {
    const half = await halfLogin(member);
    const code = totpCode(app.secret);
    secret("TOTP code", code);
    // advanceSession's UPDATE runs in the handler after the guard accepted the code.
    const advance = /UPDATE sessions SET id = \?, stage = \?/;
    await internalError(half, "POST", "/api/auth/verify", { method: "totp", code }, advance, "[error] internal error in POST /api/auth/verify: Error", [
      app.secret,
    ]);
    // The guard ended that half session when it accepted the code: the backup code comes from a new login.
    await internalError(
      await halfLogin(member),
      "POST",
      "/api/auth/verify",
      { method: "backup_code", code: app.backupCodes[0] },
      advance,
      "[error] internal error in POST /api/auth/verify: Error",
    );
  });

  it("a secret in the path or the query: only the route pattern is logged", async () => {
    const token = `tok-${crypto.randomUUID()}`;
    const query = `q-${crypto.randomUUID()}`;
    secret("token in a URL", token, query);
    await internalError(
      member.browser,
      "POST",
      `/api/invitations/${token}/accept?token=${query}`,
      undefined,
      SESSION_LOOKUP,
      "[error] internal error in POST /api/invitations/:id/accept: Error",
    );
    // No route matched: the pattern of the middleware that was running.
    await internalError(member.browser, "GET", `/api/${token}?token=${query}`, undefined, SESSION_LOOKUP, "[error] internal error in GET /api/*: Error");
  });

  it("a failing recovery and re-enrollment: not the recovery code, the new app's secret or its code", async () => {
    // Only an admin with 2FA may reset (withApp re-enters the password too).
    await withApp(admin);
    const reset = await admin.browser.ok("POST", `/api/communities/${cid}/members/${member.id}/reset-2fa`, { password: admin.password });
    secret("recovery code", ...spellingsOfCode(reset.recoveryCode));
    const recovering = await halfLogin(member);
    const body = { method: "recovery_code", code: reset.recoveryCode };
    // The session's D1 write fails after the guard accepted the code (the second step reads no session from D1).
    const advance = /UPDATE sessions SET id = \?, stage = \?/;
    await internalError(recovering, "POST", "/api/auth/verify", body, advance, "[error] internal error in POST /api/auth/verify: Error");
    // The same session retries with the same code, which still moves it on.
    expect(await recovering.ok("POST", "/api/auth/verify", body)).toEqual({ status: "enrollment_required" });
    const start = await recovering.ok("POST", "/api/security/totp", { name: "New phone" }, 201);
    secret("TOTP secret", ...spellingsOfTOTPSecret(start.secret));
    const code = totpCode(start.secret);
    secret("TOTP code", code);
    await internalError(
      recovering,
      "POST",
      `/api/security/totp/${start.id}/confirm`,
      { code },
      SESSION_LOOKUP,
      "[error] internal error in POST /api/security/totp/:id/confirm: Error",
      [start.secret],
    );
  });
});

/** The guard's pending records of a user, read inside its Durable Object. */
async function pendingOf(userId: string): Promise<{ d1_done: number; mail_done: number; attempts: number; last_error: string | null }[]> {
  return runInDurableObject(guard(userId), (_instance, state) =>
    state.storage.sql.exec("SELECT d1_done, mail_done, attempts, last_error FROM pending ORDER BY rowid").toArray(),
  ) as Promise<{ d1_done: number; mail_done: number; attempts: number; last_error: string | null }[]>;
}

/** What D1's outbox says of the backup-code login's message: its recorded failure, if any. */
async function outboxErrorsOf(userId: string): Promise<(string | null)[]> {
  const { results } = await env.DB.prepare("SELECT last_error FROM outbox WHERE user_id = ? AND template = 'backup_code_used'")
    .bind(userId)
    .all<{ last_error: string | null }>();
  return results.map((r) => r.last_error);
}

const RETRY_WARNING = /^\[warn\] guard: pending record [A-Za-z0-9_-]{22} failed \(attempt 1\); will retry \(request [0-9a-f-]{36}\)$/;

/**
 * A backup-code login records an event and an email in the guard, which then
 * writes D1 and sends the email (src/guard/flush.ts). `fail` breaks one step
 * of that with an error quoting everything the login carried; the login itself
 * succeeds, and the guard logs one warning that names only its record.
 */
async function backupLoginWhile(fail: (quoted: string[]) => () => boolean): Promise<{ userId: string; got: string[] }> {
  const a = await account();
  const app = await withApp(a);
  const half = await halfLogin(a);
  const code = app.backupCodes[0] as string;
  const hit = fail([code, half.cookieHeader, a.password, app.secret]);
  let id = "";
  const got = await logged(async () => {
    const res = await half.request("POST", "/api/auth/verify", { method: "backup_code", code });
    expect(await res.json()).toEqual({ status: "authenticated" });
    id = res.headers.get("X-Request-Id") ?? "";
  });
  expect(hit()).toBe(true);
  expect(got).toEqual([expect.stringMatching(RETRY_WARNING)]);
  // The warning names the request whose change it was flushing.
  expect(got[0]).toMatch(new RegExp(`\\(request ${id}\\)$`));
  expected.push(got[0] as string);
  return { userId: a.id, got };
}

/**
 * The failure each pending record (and, for a refused delivery, its outbox
 * row) keeps for the operators is stored, not logged, but it is read the same
 * way: only the error's class, never its message, which quotes the secrets.
 */
describe("the guard's retry warning names its record, never the error or the change; the stored failure is the error's class alone", () => {
  it("a failed D1 write", async () => {
    const { userId } = await backupLoginWhile((quoted) => {
      const failure = failD1(/INSERT OR IGNORE INTO outbox/, quoted);
      return failure.hit;
    });
    expect(await pendingOf(userId)).toEqual([{ d1_done: 0, mail_done: 0, attempts: 1, last_error: "Error" }]);
    // The outbox row is written by the statement that failed: there is none yet.
    expect(await outboxErrorsOf(userId)).toEqual([]);
  });

  it("a failed delivery", async () => {
    const { userId } = await backupLoginWhile((quoted) => {
      send.mockRejectedValueOnce(new Error(`provider refused: ${quoted.join(" ")}`));
      const calls = send.mock.calls.length;
      return () => send.mock.calls.length > calls;
    });
    expect(await pendingOf(userId)).toEqual([{ d1_done: 1, mail_done: 0, attempts: 1, last_error: "Error" }]);
    expect(await outboxErrorsOf(userId)).toEqual(["Error"]);
  });

  it("a failed outbox update after the delivery", async () => {
    const { userId } = await backupLoginWhile((quoted) => failD1(/UPDATE outbox SET sent_at/, quoted).hit);
    expect(await pendingOf(userId)).toEqual([{ d1_done: 1, mail_done: expect.any(Number), attempts: 1, last_error: "Error" }]);
    expect(await outboxErrorsOf(userId)).toEqual([null]);
  });
});

describe("a missing RP_ID or ORIGINS is logged as fixed text naming the setting, never the request", () => {
  it("key options and an invitation asked for at another host: not the host, the path, the cookies or the body", async () => {
    const admin = await account("Hosts");
    const cid = (await admin.browser.ok("GET", "/api/me")).communities[0].id as string;
    await admin.browser.ok("POST", "/api/security/reauth", { password: admin.password }, 204);
    const host = `h${crypto.randomUUID().slice(0, 8)}.example`;
    const invitee = uniqueEmail(`secret-${crypto.randomUUID().slice(0, 8)}`);
    secret("token in a URL", host, invitee);
    const atHost = (path: string, body?: unknown) =>
      SELF.fetch(`https://${host}${path}`, {
        method: "POST",
        headers: { "CF-Connecting-IP": admin.browser.ip, Cookie: admin.browser.cookieHeader, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const line = (setting: string) =>
      `[error] configuration: ${setting} is empty and the request is not for localhost; refusing to take it from the request. Set RP_ID and ORIGINS (docs/deploy.md).`;
    for (const [path, body, setting] of [
      ["/api/security/webauthn/options", undefined, "RP_ID"],
      [`/api/communities/${cid}/invitations`, { email: invitee, role: "member" }, "ORIGINS"],
    ] as const) {
      let id = "";
      const got = await logged(async () => {
        const res = await atHost(path, body);
        expect(res.status).toBe(500);
        id = res.headers.get("X-Request-Id") ?? "";
        expect(await res.json()).toMatchObject({ code: "internal", requestId: id });
      });
      expect(id).toMatch(REQUEST_ID);
      expect(got).toEqual([`${line(setting)} (request ${id})`]);
      expected.push(got[0] as string);
    }
  });
});

describe("a weak OPS_TOKEN is logged as fixed text saying what it costs, never the token", () => {
  it("a reset asked of a Worker whose OPS_TOKEN is too short, with that token: it works, and the one line", async () => {
    const weak = `ops-${crypto.randomUUID().slice(0, 20)}`;
    secret("operator token", weak);
    let id = "";
    const got = await logged(async () => {
      // Past the token: the answer for an email with no account.
      const res = await opsResetWithSecret(uniqueEmail("ops-target"), weak, weak, "198.51.100.88");
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ detail: "No account has this email" });
      id = res.headers.get("X-Request-Id") ?? "";
    });
    expect(id).toMatch(REQUEST_ID);
    expect(got).toEqual([
      `[warn] configuration: OPS_TOKEN is short or simple (under 32 characters, whitespace inside, or fewer than 8 different ones): operator recovery works, but its guesses are counted for all callers together, so anyone's wrong tokens can keep it shut. Put a longer one (docs/deploy.md "Operator recovery"). (request ${id})`,
    ]);
    expected.push(got[0] as string);
  });
});

describe("a client's mistake is answered, not logged as our error", () => {
  it("malformed JSON, a body over the limit and a wrong media type: a 4xx problem and no line", async () => {
    const post = (body: string, type: string) =>
      SELF.fetch(`${ORIGIN}/api/auth/login`, { method: "POST", headers: { "Content-Type": type, "CF-Connecting-IP": "198.51.100.77" }, body });
    const got = await logged(async () => {
      for (const [body, type, status] of [
        ['{"email": "a@example.com", "password": ', "application/json", 400],
        [JSON.stringify({ email: "a@example.com", password: "x".repeat(20_000) }), "application/json", 413],
        ["email=a@example.com", "application/x-www-form-urlencoded", 415],
      ] as const) {
        const res = await post(body, type);
        expect(res.status, body.slice(0, 40)).toBe(status);
        expect(res.headers.get("Content-Type")).toBe("application/problem+json");
      }
    });
    expect(got).toEqual([]);
  });
});

describe("every line captured in this file", () => {
  it("was expected, and holds none of the passwords, codes, secrets, tokens or cookies the tests used", () => {
    const kinds = [...new Set(secrets.map((s) => s.kind))].sort();
    expect(kinds).toEqual(["TOTP code", "TOTP secret", "backup code", "cookie", "operator token", "password", "recovery code", "token in a URL"]);
    const leaked = secrets.filter((s) => lines.some((line) => contains(line, s.value))).map((s) => s.kind);
    expect([...new Set(leaked)]).toEqual([]);
    // Eight internal errors and three warnings, and nothing else: the capture is not empty, and each test saw its line.
    expect(expected.filter((l) => l.startsWith("[error] internal error in "))).toHaveLength(8);
    expect(expected.filter((l) => RETRY_WARNING.test(l))).toHaveLength(3);
    expect([...lines].sort()).toEqual([...expected].sort());
  });
});
