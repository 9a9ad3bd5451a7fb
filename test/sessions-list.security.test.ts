import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AGENTS, Client, expectProblem, withUserAgent } from "./support/client";
import { totpCode } from "./support/codes";
import { enableTOTP, newUser, PASSWORD, reauth, secondStepClient } from "./support/fixtures";
import { d1Snapshot, sessionRow, statementsDuring, tokenHash, updateSession } from "./support/stores";

/**
 * The sessions list (docs/api.md "Email ownership, passwords and sessions"):
 * who can see and end which session. Each attack names what it tries; the
 * answer must be a problem+json refusal and nothing may change.
 */

interface Listed {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  browser: string;
}

async function list(client: Client): Promise<Listed[]> {
  const res = await client.json<{ sessions: Listed[] }>("GET", "/api/security/sessions");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.sessions;
}

/** A second browser of the same account, fully logged in. */
async function anotherBrowser(email: string, agent: readonly [string, string] = AGENTS.desk): Promise<Client> {
  const client = withUserAgent(new Client(), agent[0]);
  const res = await client.json("POST", "/api/auth/login", { email, password: PASSWORD });
  expect(res.body.status).toBe("authenticated");
  return client;
}

describe("listing", () => {
  it("lists the account's full sessions, newest first, with the browser in words and this one marked", async () => {
    const user = await newUser();
    const laptop = await anotherBrowser(user.email, AGENTS.laptop);
    const desk = await anotherBrowser(user.email, AGENTS.desk);
    const sessions = await list(laptop);
    expect(sessions).toHaveLength(3);
    expect(sessions[0]).toMatchObject({ current: false, browser: AGENTS.desk[1], ip: desk.ip });
    expect(sessions[1]).toMatchObject({ current: true, browser: AGENTS.laptop[1], ip: laptop.ip });
    expect(sessions[2]).toMatchObject({ current: false, ip: user.client.ip });
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    for (const s of sessions) {
      expect(new Date(s.createdAt).toISOString()).toBe(s.createdAt);
      expect(new Date(s.lastSeenAt).toISOString()).toBe(s.lastSeenAt);
    }
  });

  it("names a session by an id that is neither its token nor the token's hash, and keeps it when the token changes", async () => {
    const user = await newUser();
    const [before] = (await list(user.client)).filter((s) => s.current);
    const cookie = user.client.cookie as string;
    expect(before?.id).toBeTruthy();
    expect(before?.id).not.toBe(cookie);
    expect(before?.id).not.toBe(tokenHash(cookie));
    expect(JSON.stringify(await list(user.client))).not.toContain(tokenHash(cookie));
    // A re-entered password moves the session to a new token (and a new row id).
    await reauth(user.client);
    expect(user.client.cookie).not.toBe(cookie);
    const [after] = (await list(user.client)).filter((s) => s.current);
    expect(after?.id).toBe(before?.id);
  });

  it("keeps the id when the second step moves a session to `authenticated`, and lists only full sessions", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    // The half-logged-in session is not listed.
    expect((await list(user.client)).map((s) => s.current)).toEqual([true]);
    const row = await env.DB.prepare("SELECT public_id FROM sessions WHERE id = ?")
      .bind(tokenHash(half.cookie as string))
      .first<{ public_id: string }>();
    const verified = await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(verified.status).toBe(200);
    const mine = (await list(half)).find((s) => s.current);
    expect(mine?.id).toBe(row?.public_id);
  });
});

describe("last seen", () => {
  it("costs no D1 write per request: a session is touched at most once per 5 minutes", async () => {
    const user = await newUser();
    const touches = (prepared: string[]) => prepared.filter((q) => /UPDATE sessions SET last_seen_at/.test(q)).length;
    const quiet = await statementsDuring(async () => {
      for (let i = 0; i < 10; i++) expect((await user.client.get("/api/me")).status).toBe(200);
      expect((await user.client.get("/api/security/sessions")).status).toBe(200);
    });
    expect(touches(quiet)).toBe(0);
    // Six minutes without a request: the next one records it, once.
    await updateSession(user.client, { last_seen_at: Date.now() - 6 * 60_000 });
    const next = await statementsDuring(async () => {
      expect((await user.client.get("/api/me")).status).toBe(200);
    });
    expect(touches(next)).toBe(1);
  });
});

describe("who may call", () => {
  it("refuses every sessions endpoint to no session (401) and to a password-only session (403), changing nothing", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    const [target] = await list(user.client);
    const before = await d1Snapshot();
    for (const client of [new Client(), half]) {
      const expected = client === half ? [403, "second_factor_required"] : [401, "unauthenticated"];
      await expectProblem(await client.get("/api/security/sessions"), expected[0] as number, expected[1] as string);
      await expectProblem(await client.delete(`/api/security/sessions/${target?.id}`), expected[0] as number, expected[1] as string);
      await expectProblem(await client.post("/api/security/sessions/revoke-others"), expected[0] as number, expected[1] as string);
    }
    expect(await d1Snapshot()).toEqual(before);
    expect((await user.client.get("/api/me")).status).toBe(200);
  });
});

describe("ending one session", () => {
  it("ends another browser's session at once: its next request is refused", async () => {
    const user = await newUser();
    const other = await anotherBrowser(user.email);
    const target = (await list(user.client)).find((s) => !s.current && s.ip === other.ip);
    expect((await other.get("/api/me")).status).toBe(200);
    expect((await user.client.delete(`/api/security/sessions/${target?.id}`)).status).toBe(204);
    await expectProblem(await other.get("/api/me"), 401, "unauthenticated");
    expect(await sessionRow(other)).toBeNull();
    expect((await list(user.client)).map((s) => s.id)).not.toContain(target?.id);
    const events = await env.DB.prepare("SELECT type FROM events WHERE user_id = ? AND type = 'session_revoked'").bind(user.id).all();
    expect(events.results).toHaveLength(1);
  });

  it("another user's session id is unknown: 404, and that session lives on", async () => {
    const alice = await newUser();
    const mallory = await newUser();
    const [aliceSession] = await list(alice.client);
    const before = await d1Snapshot();
    await expectProblem(await mallory.client.delete(`/api/security/sessions/${aliceSession?.id}`), 404, "not_found");
    expect(await d1Snapshot()).toEqual(before);
    expect((await alice.client.get("/api/me")).status).toBe(200);
    // Nor does any list show another user's sessions.
    expect((await list(mallory.client)).map((s) => s.id)).not.toContain(aliceSession?.id);
  });

  it("a half-logged-in session's id cannot be ended through the list (it is not listed): 404", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    const row = await env.DB.prepare("SELECT public_id FROM sessions WHERE id = ?")
      .bind(tokenHash(half.cookie as string))
      .first<{ public_id: string }>();
    await expectProblem(await user.client.delete(`/api/security/sessions/${row?.public_id}`), 404, "not_found");
    expect(await sessionRow(half)).not.toBeNull();
  });

  it("unknown and malformed ids, the token itself and its hash: problem+json, nothing changed", async () => {
    const user = await newUser();
    const before = await d1Snapshot();
    await expectProblem(await user.client.delete("/api/security/sessions/AAAAAAAAAAAAAAAAAAAAAA"), 404, "not_found");
    await expectProblem(await user.client.delete(`/api/security/sessions/${tokenHash(user.client.cookie as string)}`), 404, "not_found");
    await expectProblem(await user.client.delete(`/api/security/sessions/${user.client.cookie}`), 404, "not_found");
    await expectProblem(await user.client.delete("/api/security/sessions/x"), 400, "invalid_request");
    await expectProblem(await user.client.delete(`/api/security/sessions/${"a".repeat(65)}`), 400, "invalid_request");
    await expectProblem(await user.client.delete("/api/security/sessions/%27%20OR%201%3D1%20--"), 400, "invalid_request");
    expect(await d1Snapshot()).toEqual(before);
    expect((await user.client.get("/api/me")).status).toBe(200);
  });

  it("ending the current session logs out: the cookie is cleared and the session refused", async () => {
    const user = await newUser();
    const [mine] = await list(user.client);
    const cookie = user.client.cookie;
    const res = await user.client.delete(`/api/security/sessions/${mine?.id}`);
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().some((c) => /^__Host-session=;/.test(c) && /Max-Age=0/.test(c))).toBe(true);
    const replay = new Client();
    replay.cookie = cookie;
    await expectProblem(await replay.get("/api/me"), 401, "unauthenticated");
  });
});

describe("signing out everywhere else", () => {
  it("keeps only the caller's session; full and half-logged-in ones of the account end, other accounts' stay", async () => {
    const user = await newUser();
    const stranger = await newUser();
    const others = [await anotherBrowser(user.email), await anotherBrowser(user.email)];
    const caller = await anotherBrowser(user.email, AGENTS.laptop);
    const res = await caller.post("/api/security/sessions/revoke-others");
    expect(res.status).toBe(204);
    for (const client of [user.client, ...others]) await expectProblem(await client.get("/api/me"), 401, "unauthenticated");
    expect((await caller.get("/api/me")).status).toBe(200);
    expect((await list(caller)).map((s) => s.current)).toEqual([true]);
    const left = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(left?.n).toBe(1);
    expect((await stranger.client.get("/api/me")).status).toBe(200);
  });

  it("ends half-logged-in sessions too, so a password-only intruder cannot finish later", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    expect((await user.client.post("/api/security/sessions/revoke-others")).status).toBe(204);
    expect(await sessionRow(half)).toBeNull();
  });
});
