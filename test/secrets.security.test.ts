import { env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { Client, withLanguage } from "./support/client";
import { contains, previousStepCode, spellingsOfCode, spellingsOfTOTPSecret, totpCode } from "./support/codes";
import { uniqueEmail } from "./support/fixtures";
import { d1Snapshot, everythingStored, guard } from "./support/stores";

/**
 * Secrets never leave in the wrong place (docs/api.md "No email ever carries a
 * code or secret"; never echo the body). A full flow issues every kind of
 * secret, and each is searched for in every email handed to the transport,
 * every D1 row, every guard row in plain form, and every response body except
 * the one response that hands it over. Log lines are searched by
 * test/logs.security.test.ts, which drives every path that logs.
 */

let send: MockInstance;

beforeAll(() => {
  const binding = env.EMAIL;
  const real = binding.send;
  // Calls the real binding through (Reflect.apply: the binding is an RPC stub).
  send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => Reflect.apply(real, binding, [message]));
});

afterAll(() => {
  send.mockRestore();
});

/** Every response the flow saw: which call, and its body as text. */
interface Seen {
  label: string;
  status: number;
  body: string;
  setCookie: string | null;
}
const responses: Seen[] = [];
const tokens = new Set<string>();

/** A client that records every response and every session token it is given. */
class RecordingClient extends Client {
  override async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const res = await super.request(method, path, body, headers);
    responses.push({ label: `${method} ${path}`, status: res.status, body: await res.clone().text(), setCookie: res.headers.get("Set-Cookie") });
    if (this.cookie) tokens.add(this.cookie);
    return res;
  }
}

/** The token of the last link to `page` delivered to `address` (read from the transport's calls). */
function linkToken(address: string, page: string): string {
  const re = new RegExp(`/${page}#token=([A-Za-z0-9_.-]+)`);
  const found = send.mock.calls
    .map((call) => call[0] as { to: string; text: string })
    .filter((m) => m.to === address)
    .map((m) => re.exec(m.text)?.[1])
    .filter((t): t is string => Boolean(t));
  const token = found.at(-1);
  if (!token) throw new Error(`no link to /${page} for ${address}`);
  return token;
}

function uniquePassword(): string {
  return `pw-${crypto.randomUUID()}-long enough`;
}
const PASSWORD_A = uniquePassword();
const PASSWORD_B = uniquePassword();
const PASSWORD_C = uniquePassword();

async function ok<T = any>(client: Client, method: string, path: string, body?: unknown, status = 200): Promise<T> {
  const r = await client.json<T>(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

describe("secrets after a full flow", () => {
  const secrets: { kind: string; value: string; handedOverBy: RegExp }[] = [];
  /** The secrets exactly as the service handed them over, and by which call. */
  const issued: { value: string; by: RegExp }[] = [];
  const add = (kind: string, values: string[], handedOverBy: RegExp, asIssued: string[] = []) => {
    for (const value of values) secrets.push({ kind, value, handedOverBy });
    for (const value of asIssued) issued.push({ value, by: handedOverBy });
  };
  let adminId = "";
  let memberId = "";

  beforeAll(async () => {
    // An admin with a community, and a member who joins it.
    const adminPassword = uniquePassword();
    const memberPassword = uniquePassword();
    add("password", [adminPassword, memberPassword], /^$/);
    const admin = new RecordingClient();
    const adminEmail = uniqueEmail("admin");
    adminId = (await ok(admin, "POST", "/api/auth/signup", { email: adminEmail, password: adminPassword, name: "Ada", community: "Secrets" }, 201)).user.id;
    await ok(admin, "POST", "/api/auth/login", { email: adminEmail, password: adminPassword });
    const cid = (await ok(admin, "GET", "/api/me")).communities[0].id as string;
    // The member's browser is French, the admin's English: the search covers the emails of both languages.
    const member = withLanguage(new RecordingClient(), "fr");
    const memberEmail = uniqueEmail("member");
    memberId = (await ok(member, "POST", "/api/auth/signup", { email: memberEmail, password: memberPassword, name: "Mo" }, 201)).user.id;
    await ok(member, "POST", "/api/auth/login", { email: memberEmail, password: memberPassword });
    const invitation = (await ok(admin, "POST", `/api/communities/${cid}/invitations`, { email: memberEmail, role: "member" }, 201)).invitation;
    // The member's email is not proven yet: the invitation's own link proves it.
    await ok(member, "POST", `/api/invitations/${invitation.id}/accept`, { token: linkToken(memberEmail, "invitations") });

    // The member enrolls an authenticator app (confirmed with the previous step's code).
    await ok(member, "POST", "/api/security/reauth", { password: memberPassword }, 204);
    const start = await ok(member, "POST", "/api/security/totp", { name: "Phone" }, 201);
    add("TOTP secret", spellingsOfTOTPSecret(start.secret), /^POST \/api\/security\/totp$/, [start.secret]);
    const confirmCode = await previousStepCode(start.secret);
    const confirmed = await ok(member, "POST", `/api/security/totp/${start.id}/confirm`, { code: confirmCode });
    const firstCodes = confirmed.backupCodes as string[];
    add("backup code", firstCodes.flatMap(spellingsOfCode), /^POST \/api\/security\/totp\/[^/]+\/confirm$/, firstCodes);

    // Everything a member and an admin can read afterwards.
    await ok(member, "GET", "/api/security");
    await ok(member, "GET", "/api/me");
    await ok(member, "GET", "/api/invitations");
    await ok(admin, "GET", `/api/communities/${cid}/members`);
    await ok(admin, "GET", `/api/communities/${cid}/invitations`);

    // Regenerate: ten new codes, the old ones dead.
    const fresh = (await ok(member, "POST", "/api/security/backup-codes")).codes as string[];
    add("backup code", fresh.flatMap(spellingsOfCode), /^POST \/api\/security\/backup-codes$/, fresh);

    // Log in with a wrong code, then TOTP; and again with a backup code.
    const totpLogin = withLanguage(new RecordingClient(), "fr");
    await ok(totpLogin, "POST", "/api/auth/login", { email: memberEmail, password: memberPassword });
    const wrong = totpCode(start.secret, Date.now() - 10 * 60_000);
    expect((await totpLogin.request("POST", "/api/auth/verify", { method: "totp", code: wrong })).status).toBe(401);
    const loginCode = totpCode(start.secret);
    await ok(totpLogin, "POST", "/api/auth/verify", { method: "totp", code: ` ${loginCode} ` });
    add("TOTP code", [confirmCode, loginCode, wrong], /^$/);
    const backupLogin = withLanguage(new RecordingClient(), "fr");
    await ok(backupLogin, "POST", "/api/auth/login", { email: memberEmail, password: memberPassword });
    await ok(backupLogin, "POST", "/api/auth/verify", { method: "backup_code", code: (fresh[0] as string).toUpperCase() });
    await ok(backupLogin, "GET", "/api/security");

    // The admin resets the member; the member recovers and enrolls a new app.
    await ok(admin, "POST", "/api/security/reauth", { password: adminPassword }, 204);
    // Only an admin with 2FA may reset: the admin enrolls an app first (its secrets join the search).
    const adminApp = await ok(admin, "POST", "/api/security/totp", { name: "Admin phone" }, 201);
    add("TOTP secret", spellingsOfTOTPSecret(adminApp.secret), /^POST \/api\/security\/totp$/, [adminApp.secret]);
    const adminCode = await previousStepCode(adminApp.secret);
    const adminConfirmed = await ok(admin, "POST", `/api/security/totp/${adminApp.id}/confirm`, { code: adminCode });
    add("TOTP code", [adminCode], /^$/);
    add(
      "backup code",
      (adminConfirmed.backupCodes as string[]).flatMap(spellingsOfCode),
      /^POST \/api\/security\/totp\/[^/]+\/confirm$/,
      adminConfirmed.backupCodes,
    );
    const reset = await ok(admin, "POST", `/api/communities/${cid}/members/${memberId}/reset-2fa`, { password: adminPassword });
    add("recovery code", spellingsOfCode(reset.recoveryCode), /^POST \/api\/communities\/[^/]+\/members\/[^/]+\/reset-2fa$/, [reset.recoveryCode]);
    await ok(admin, "GET", `/api/communities/${cid}/members`);
    const recovering = withLanguage(new RecordingClient(), "fr");
    await ok(recovering, "POST", "/api/auth/login", { email: memberEmail, password: memberPassword });
    await ok(recovering, "POST", "/api/auth/verify", { method: "recovery_code", code: reset.recoveryCode });
    const again = await ok(recovering, "POST", "/api/security/totp", { name: "New phone" }, 201);
    add("TOTP secret", spellingsOfTOTPSecret(again.secret), /^POST \/api\/security\/totp$/, [again.secret]);
    const againCode = totpCode(again.secret);
    const reenrolled = await ok(recovering, "POST", `/api/security/totp/${again.id}/confirm`, { code: againCode });
    add("TOTP code", [againCode], /^$/);
    add("backup code", (reenrolled.backupCodes as string[]).flatMap(spellingsOfCode), /^POST \/api\/security\/totp\/[^/]+\/confirm$/, reenrolled.backupCodes);
    await ok(recovering, "GET", "/api/security");
    await ok(recovering, "GET", "/api/me");
    await ok(recovering, "POST", "/api/auth/logout", undefined, 204);

    add("session token", [...tokens], /^$/);
  });

  it("the flow issued every kind of secret", () => {
    const kinds = new Set(secrets.map((s) => s.kind));
    expect([...kinds].sort()).toEqual(["TOTP code", "TOTP secret", "backup code", "password", "recovery code", "session token"]);
    expect(tokens.size).toBeGreaterThanOrEqual(6);
  });

  it("no email, as handed to the transport or as kept in the outbox, holds one", async () => {
    const mails = send.mock.calls.map((call) => JSON.stringify(call[0]));
    expect(mails.length).toBeGreaterThan(3);
    const { results: outbox } = await env.DB.prepare("SELECT recipient, subject, body FROM outbox").all();
    expect(outbox.length).toBeGreaterThan(3);
    const text = [...mails, ...outbox.map((r) => JSON.stringify(r))].join("\n");
    // Both languages were searched: the member's emails are French, the admin's English.
    const subjects = outbox.map((r) => r.subject);
    expect(subjects).toContain("L’authentification à deux facteurs est activée");
    expect(subjects).toContain("Votre authentification à deux facteurs a été réinitialisée");
    expect(subjects).toContain("Two-factor authentication is on");
    expect(secrets.filter((s) => contains(text, s.value)).map((s) => s.kind)).toEqual([]);
  });

  it("no D1 row holds one (sessions are stored as hashes, codes not at all)", async () => {
    const d1 = JSON.stringify(await d1Snapshot());
    expect(secrets.filter((s) => contains(d1, s.value)).map((s) => s.kind)).toEqual([]);
  });

  it("no guard row holds one in plain form (TOTP secrets are encrypted, codes hashed)", async () => {
    for (const id of [adminId, memberId]) {
      const dump = await runInDurableObject(guard(id), async (_instance, state) => {
        const sql = state.storage.sql;
        const tables = sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
          .toArray();
        const text: string[] = [];
        for (const { name } of tables) {
          for (const row of sql.exec(`SELECT * FROM "${name}"`).toArray()) {
            for (const v of Object.values(row)) {
              if (v instanceof ArrayBuffer) {
                const bytes = new Uint8Array(v);
                text.push([...bytes].map((b) => b.toString(16).padStart(2, "0")).join(""), btoa(String.fromCharCode(...bytes)));
              } else text.push(String(v));
            }
          }
        }
        return text.join("\n");
      });
      expect(secrets.filter((s) => contains(dump, s.value)).map((s) => s.kind)).toEqual([]);
    }
  });

  it("responses carry a secret only in the one answer that hands it over", () => {
    const leaks: string[] = [];
    for (const s of secrets) {
      for (const r of responses) {
        if (contains(r.body, s.value) && !s.handedOverBy.test(r.label)) leaks.push(`${s.kind} in ${r.label}`);
      }
    }
    expect(leaks).toEqual([]);
    // The search does find what it looks for: each secret as issued is in the answer that issued it.
    for (const { value, by } of issued) {
      expect(
        responses.some((r) => by.test(r.label) && contains(r.body, value)),
        value,
      ).toBe(true);
    }
    // And the reads after enrollment were really made and answered.
    const reads = responses.filter((r) => /^GET \/api\/(security|me|communities\/[^/]+\/members)$/.test(r.label));
    expect(reads.length).toBeGreaterThanOrEqual(6);
    expect(reads.every((r) => r.status === 200)).toBe(true);
  });

  it("a session token travels only in Set-Cookie, never in a body", () => {
    for (const token of tokens) {
      expect(responses.filter((r) => r.body.includes(token)).map((r) => r.label)).toEqual([]);
    }
    expect(responses.some((r) => r.setCookie?.includes("__Host-session="))).toBe(true);
  });
});

describe("email-link tokens", () => {
  /** Every console line the Worker and the guards wrote during this flow. */
  const lines: string[] = [];
  const spies: MockInstance[] = [];
  /** Each link's secret (the part after the id), and which guards might hold it. */
  const links: { kind: string; secret: string; guards: string[] }[] = [];
  const secretOf = (token: string) => token.slice(token.indexOf(".") + 1);

  beforeAll(async () => {
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      spies.push(vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" "))));
    }
    const admin = new RecordingClient();
    const adminEmail = uniqueEmail("links-admin");
    const adminId = (await ok(admin, "POST", "/api/auth/signup", { email: adminEmail, password: PASSWORD_A, name: "Ada", community: "Links" }, 201)).user
      .id as string;
    await ok(admin, "POST", "/api/auth/login", { email: adminEmail, password: PASSWORD_A });
    const cid = (await ok(admin, "GET", "/api/me")).communities[0].id as string;

    const user = new RecordingClient();
    const email = uniqueEmail("links");
    const userId = (await ok(user, "POST", "/api/auth/signup", { email, password: PASSWORD_B, name: "Lin" }, 201)).user.id as string;
    const verify = linkToken(email, "verify-email");
    links.push({ kind: "verify", secret: secretOf(verify), guards: [userId] });
    await ok(admin, "POST", `/api/communities/${cid}/invitations`, { email, role: "member" }, 201);
    const invitation = linkToken(email, "invitations");
    links.push({ kind: "invitation", secret: secretOf(invitation), guards: [adminId, userId] });

    await ok(new RecordingClient(), "POST", "/api/auth/password-reset", { email }, 202);
    const reset = await vi.waitFor(() => linkToken(email, "reset-password"), { timeout: 10_000, interval: 10 });
    links.push({ kind: "reset", secret: secretOf(reset), guards: [userId] });
    await ok(new RecordingClient(), "POST", "/api/auth/password-reset/confirm", { token: reset, password: PASSWORD_C }, 204);
    await ok(user, "POST", "/api/auth/login", { email, password: PASSWORD_C });
    await ok(user, "POST", `/api/invitations/${invitation.split(".")[0]}/accept`, { token: invitation });
    // The reset proved the email and retired the verification link.
    expect((await new RecordingClient().request("POST", "/api/auth/verify-email", { token: verify })).status).toBe(400);
    for (const spy of spies) spy.mockRestore();
  });

  it("each link's token is in exactly one delivered email", () => {
    expect(links.map((l) => l.kind)).toEqual(["verify", "invitation", "reset"]);
    const delivered = send.mock.calls.map((call) => JSON.stringify(call[0]));
    for (const l of links)
      expect(
        delivered.filter((m) => m.includes(l.secret)),
        l.kind,
      ).toHaveLength(1);
  });

  it("no token is in D1 (the outbox keeps the link redacted) or in any guard's storage", async () => {
    const d1 = JSON.stringify(await d1Snapshot());
    expect(d1).toContain("[link removed from this copy]");
    for (const l of links) {
      expect(d1.includes(l.secret), l.kind).toBe(false);
      for (const id of l.guards) expect((await everythingStored(id)).includes(l.secret), `${l.kind} in guard ${id}`).toBe(false);
    }
  });

  it("no token is in any log line or response body", () => {
    for (const l of links) {
      expect(
        lines.filter((line) => line.includes(l.secret)),
        l.kind,
      ).toEqual([]);
      expect(
        responses.filter((r) => r.body.includes(l.secret)).map((r) => r.label),
        l.kind,
      ).toEqual([]);
    }
  });
});
