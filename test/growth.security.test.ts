import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INVITATION_MAIL_POLICY } from "../src/invitations/routes";
import { sha256Hex } from "../src/lib/sha256";
import { Client } from "./support/client";
import { previousStepCode } from "./support/codes";
import { addAuthenticatorApp, enableTOTP, halfSessions, logIn, newUser, PASSWORD, proveEmail, reauth, secondStepClient, verify } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { guardRows, updateSession } from "./support/stores";

/**
 * Unbounded growth driven by an account's own holder (docs/security.md, R9g and
 * after): D1 is one database with a size cap, so what a script can add per
 * request must also go away, or be bounded per account.
 */

const DAY = 24 * 60 * 60 * 1000;
/** The events a user keeps, and the sent emails (migrations/0010_events_kept.sql, migrations/0011_outbox_kept.sql). */
const KEPT = 1000;

async function countOf(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** `n` rows the account would have made over the years, written as its own logins and mail would have written them. */
async function history(table: "events" | "outbox", userId: string, n: number, from: number): Promise<void> {
  const rows = Array.from({ length: n }, (_, i) =>
    table === "events"
      ? env.DB.prepare(
          "INSERT INTO events (id, user_id, type, at, ip, user_agent, data) VALUES (?, ?, 'logged_in', ?, '192.0.2.1', 'a script', '{\"method\":\"password\"}')",
        ).bind(`old-${userId}-${i}`, userId, from + i)
      : env.DB.prepare(
          "INSERT INTO outbox (id, user_id, recipient, template, subject, body, created_at, sent_at, attempts) VALUES (?, ?, 'someone@example.com', 'new_browser_login', 'A new browser', 'text', ?, ?, 1)",
        ).bind(`old-${userId}-${i}`, userId, from + i, from + i),
  );
  for (let i = 0; i < rows.length; i += 100) await env.DB.batch(rows.slice(i, i + 100));
}

describe("growth an account's holder drives", () => {
  it("a script logging in to its own account again and again does not grow its events without bound: the newest 1000 are kept, reset events always", async () => {
    // A right password gives the throttle's tokens back, so logins to one's own account are limited by nothing
    // but their PBKDF2; each wrote a `logged_in` event (and more), and nothing ever deleted one.
    const u = await newUser();
    const from = Date.now() - 400 * DAY;
    await env.DB.prepare("INSERT INTO events (id, user_id, type, at, actor_id) VALUES (?, ?, 'recovery_code_issued', ?, 'some-admin')")
      .bind(`reset-${u.id}`, u.id, from - 1)
      .run();
    await history("events", u.id, KEPT, from);

    for (let i = 0; i < 3; i++) expect((await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(200);

    // Every login, the new ones included, and the community's reset event (listed to its admins) stays.
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ? AND type != 'recovery_code_issued'", u.id)).toBe(KEPT);
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'recovery_code_issued'", u.id)).toBe(1);
    expect(
      await countOf("SELECT count(*) AS n FROM events WHERE user_id = ? AND at >= ? AND type = 'logged_in'", u.id, Date.now() - DAY),
    ).toBeGreaterThanOrEqual(4);
    // The oldest went first.
    expect(await countOf("SELECT count(*) AS n FROM events WHERE id = ?", `old-${u.id}-0`)).toBe(0);
    expect(await countOf("SELECT count(*) AS n FROM events WHERE id = ?", `old-${u.id}-${KEPT - 1}`)).toBe(1);
    // The Security page still lists the newest.
    const page = await u.client.json("GET", "/api/security");
    expect(page.body.events.map((e: { type: string }) => e.type)).toContain("new_browser_login");
  });

  it("the user's newest login is kept under 1000 newer events, so a login from a new browser is still news to the owner", async () => {
    const u = await newUser();
    const later = Array.from({ length: KEPT + 1 }, (_, i) =>
      env.DB.prepare("INSERT INTO events (id, user_id, type, at) VALUES (?, ?, 'method_renamed', ?)").bind(`renamed-${u.id}-${i}`, u.id, Date.now() + i),
    );
    for (let i = 0; i < later.length; i += 100) await env.DB.batch(later.slice(i, i + 100));
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'logged_in'", u.id)).toBe(1);
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ?", u.id)).toBe(KEPT + 1);
  });

  it("another user's events are not touched by one account's pruning", async () => {
    const [a, b] = [await newUser(), await newUser()];
    const before = await countOf("SELECT count(*) AS n FROM events WHERE user_id = ?", b.id);
    await history("events", a.id, KEPT, Date.now() - 400 * DAY);
    await new Client().json("POST", "/api/auth/login", { email: a.email, password: PASSWORD });
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ?", b.id)).toBe(before);
  });
});

describe("mail an account's holder makes the service send", () => {
  const mailbox = new Mailbox();
  beforeEach(() => mailbox.open());
  afterEach(() => mailbox.close());
  /** What was mailed to the address about its account, the link to prove it aside. */
  const securityMailTo = (address: string) => mailbox.to(address).filter((m) => !m.text.includes("/verify-email#token="));

  it("an account made with someone else's address cannot have security emails sent to it without bound: 10, then one every 10 minutes until the address is proven; every change is still logged", async () => {
    // No proof of the address is needed to log in and change things, and each change emails the account's
    // address: regenerating backup codes (the password re-entered once) emailed that address once per request.
    const u = await newUser({ verified: false });
    await enableTOTP(u.client);
    await reauth(u.client);
    for (let i = 0; i < 15; i++) expect((await u.client.json("POST", "/api/security/backup-codes")).status).toBe(200);
    expect(securityMailTo(u.email)).toHaveLength(10);
    expect(await countOf("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'backup_codes_regenerated'", u.id)).toBe(15);

    // A proven address is its owner's: every change is mailed to them.
    const owner = await newUser();
    await proveEmail(owner.id);
    await enableTOTP(owner.client);
    await reauth(owner.client);
    for (let i = 0; i < 15; i++) await owner.client.json("POST", "/api/security/backup-codes");
    expect(securityMailTo(owner.email)).toHaveLength(16);
  });
});

describe("the outbox", () => {
  it("a script logging in from new browsers again and again does not grow the outbox without bound: a user's newest 1000 sent emails are kept, none unsent", async () => {
    // Each login from an empty cookie jar emails the proven owner an alert, and D1 kept every email's text forever.
    const u = await newUser();
    await history("outbox", u.id, KEPT, Date.now() - 400 * DAY);
    await env.DB.prepare(
      "INSERT INTO outbox (id, user_id, recipient, template, subject, body, created_at, attempts, last_error) VALUES (?, ?, 'someone@example.com', 'method_added', 'A method', 'text', ?, 3, 'Error')",
    )
      .bind(`unsent-${u.id}`, u.id, Date.now() - 401 * DAY)
      .run();
    for (let i = 0; i < 3; i++) expect((await new Client().json("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(200);

    expect(
      await countOf("SELECT count(*) AS n FROM outbox WHERE user_id = ? AND template = 'new_browser_login' AND created_at > ?", u.id, Date.now() - DAY),
    ).toBe(3);
    expect(await countOf("SELECT count(*) AS n FROM outbox WHERE user_id = ? AND sent_at IS NOT NULL", u.id)).toBe(KEPT);
    expect(await countOf("SELECT count(*) AS n FROM outbox WHERE id = ?", `old-${u.id}-0`)).toBe(0);
    // One still being retried is the guard's business, whatever its age.
    expect(await countOf("SELECT count(*) AS n FROM outbox WHERE id = ?", `unsent-${u.id}`)).toBe(1);
  });

  it("an invitation's email, sent to someone with no account, leaves the outbox 30 days after it was sent", async () => {
    const admin = await newUser({ community: "Growth" });
    const old = Date.now() - 31 * DAY;
    await env.DB.prepare(
      "INSERT INTO outbox (id, user_id, recipient, template, subject, body, created_at, sent_at, attempts) VALUES ('old-invitation', '', 'someone@example.com', 'invitation', 'An invitation', 'text', ?, ?, 1)",
    )
      .bind(old, old)
      .run();
    const res = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: "newcomer@example.com", role: "member" });
    expect(res.status).toBe(201);
    expect(await countOf("SELECT count(*) AS n FROM outbox WHERE recipient = 'newcomer@example.com'")).toBe(1);
    expect(await countOf("SELECT count(*) AS n FROM outbox WHERE id = 'old-invitation'")).toBe(0);
  });
});

describe("methods", () => {
  it("an account cannot add authenticator apps or keys without bound: 403 forbidden at 20, when starting one and when confirming one started before", async () => {
    // Each added app is a guard row, a D1 row, an event and an email, and a wrong code at login opens every
    // app's secret in turn: an account with thousands made each of its logins' second steps do thousands of decryptions.
    const u = await newUser();
    await enableTOTP(u.client);
    for (let i = 0; i < 18; i++) await addAuthenticatorApp(u.client, { name: `App ${i}` });
    const started = await u.client.json("POST", "/api/security/totp", { name: "Started at 19" });
    expect(started.status).toBe(201);
    await addAuthenticatorApp(u.client, { name: "The 20th" });
    expect(await countOf("SELECT count(*) AS n FROM methods WHERE user_id = ?", u.id)).toBe(20);

    const late = await u.client.json("POST", `/api/security/totp/${started.body.id}/confirm`, { code: await previousStepCode(started.body.secret) });
    expect(late.status).toBe(403);
    expect(late.body.code).toBe("forbidden");
    const more = await u.client.json("POST", "/api/security/totp", { name: "One more" });
    expect(more.status).toBe(403);
    expect(more.body.code).toBe("forbidden");
    const key = await u.client.json("POST", "/api/security/webauthn/options");
    expect(key.status).toBe(403);
    expect(key.body.code).toBe("forbidden");
    expect(await countOf("SELECT count(*) AS n FROM methods WHERE user_id = ?", u.id)).toBe(20);

    // Removing one makes room again.
    const list = await u.client.json("GET", "/api/security");
    expect((await u.client.request("DELETE", `/api/security/methods/${list.body.methods[1].id}`)).status).toBe(204);
    expect((await u.client.json("POST", "/api/security/totp", { name: "Room again" })).status).toBe(201);
  });
});

describe("invitations", () => {
  it("invitations that expired unaccepted do not stay forever: the community's next invitation deletes them", async () => {
    // 100 a day per community, each kept for good once its 7 days were over: nothing read them again, nothing deleted them.
    const admin = await newUser({ community: "Expired" });
    const other = await newUser({ community: "Other" });
    const past = Date.now() - 30 * DAY;
    const expired = (cid: string, inviter: string, i: number) =>
      env.DB.prepare(
        "INSERT INTO invitations (id, community_id, email, role, invited_by, created_at, expires_at, token_hash) VALUES (?, ?, ?, 'member', ?, ?, ?, 'x')",
      ).bind(`expired-${cid}-${i}`, cid, `gone-${i}@example.com`, inviter, past, past + 7 * DAY);
    await env.DB.batch([
      ...Array.from({ length: 50 }, (_, i) => expired(admin.communityId as string, admin.id, i)),
      expired(other.communityId as string, other.id, 0),
    ]);

    const res = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: "fresh@example.com", role: "member" });
    expect(res.status).toBe(201);
    expect(await countOf("SELECT count(*) AS n FROM invitations WHERE community_id = ?", admin.communityId)).toBe(1);
    // Another community's are its own next invitation's business.
    expect(await countOf("SELECT count(*) AS n FROM invitations WHERE community_id = ?", other.communityId)).toBe(1);
  });
});

describe("invitations from one client address", () => {
  it("one client address cannot multiply invitation emails by holding many accounts, each the admin of the community it made at signup: 40 an hour from one address", async () => {
    // Each admin may send 20 an hour and each community 100 a day, but every signup may make a community: an
    // address that signed up many accounts sent 20 invitations an hour per account, to any address at all.
    const ip = "198.51.100.92";
    const admins: { client: Client; cid: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const client = new Client(ip);
      const email = `inviter-${i}-${crypto.randomUUID()}@example.com`;
      expect((await client.json("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Inviter", community: `Spam ${i}` })).status).toBe(201);
      expect((await client.json("POST", "/api/auth/login", { email, password: PASSWORD })).status).toBe(200);
      admins.push({ client, cid: (await client.json("GET", "/api/me")).body.communities[0].id });
    }
    const statuses: number[] = [];
    for (const { client, cid } of admins) {
      for (let i = 0; i < 20; i++) {
        statuses.push((await client.json("POST", `/api/communities/${cid}/invitations`, { email: `target-${i}@example.com`, role: "member" })).status);
      }
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(40);
    expect(statuses.slice(40).every((s) => s === 429)).toBe(true);
    // Another address's admin still invites.
    const other = await newUser({ community: "Elsewhere" });
    expect(
      (await other.client.json("POST", `/api/communities/${other.communityId}/invitations`, { email: "target-0@example.com", role: "member" })).status,
    ).toBe(201);
  });
});

describe("invitation emails to one address (docs/security.md R11o)", () => {
  it("accounts on many client addresses cannot flood one address with invitations: the bucket's emails, then one per refill; the invitations beyond are kept, not emailed", async () => {
    const { capacity, refillMs } = INVITATION_MAIL_POLICY;
    // Every window of an invitation is the sender's (admin, community, client address): each new address that
    // signs up an account with a community of its own adds 20 an hour, all of which may go to the same inbox.
    const victim = await newUser({ name: "Vic Victim" });
    const inviters: { client: Client; cid: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const admin = await newUser({ community: `Flood ${i}` });
      inviters.push({ client: admin.client, cid: admin.communityId as string });
    }
    const invitationEmails = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE recipient = ? AND template = 'invitation'").bind(victim.email).first<{ n: number }>())?.n;
    const invite = ({ client, cid }: { client: Client; cid: string }) =>
      client.json("POST", `/api/communities/${cid}/invitations`, { email: victim.email, role: "member" });

    const answers: { status: number; emailed: boolean }[] = [];
    const rounds = Math.ceil((capacity + 2) / inviters.length);
    for (let round = 0; round < rounds; round++)
      for (const inviter of inviters) {
        const res = await invite(inviter);
        answers.push({ status: res.status, emailed: res.body.emailed });
      }
    // Each invitation stands; the admins past the bucket are told theirs was not emailed, so they can tell the person.
    expect(answers.map((a) => a.status)).toEqual(Array(rounds * inviters.length).fill(201));
    // The usual answer is the contract's, with no field of ours; only one not emailed says so.
    expect(answers.map((a) => a.emailed)).toEqual(answers.map((_, i) => (i < capacity ? undefined : false)));
    expect(await invitationEmails()).toBe(capacity);
    const listed = await victim.client.json("GET", "/api/invitations");
    expect(listed.body.invitations.map((i: { community: { id: string } }) => i.community.id).sort()).toEqual(inviters.map((i) => i.cid).sort());
    // The newest one, never emailed, is accepted by its invitee from the list.
    const newest = listed.body.invitations.find((i: { community: { id: string } }) => i.community.id === inviters[2]?.cid);
    expect((await victim.client.json("POST", `/api/invitations/${newest.id}/accept`)).status).toBe(200);

    // One refill on the address's bucket: one more email goes out, and the next is kept again.
    await runInDurableObject(env.THROTTLE.get(env.THROTTLE.idFromName(`invitation-mail:${sha256Hex(victim.email)}`)), async (_instance, state) => {
      const bucket = state.storage.kv.get<{ tokens: number; at: number }>("bucket");
      expect(bucket?.tokens).toBe(0);
      state.storage.kv.put("bucket", { tokens: 0, at: (bucket?.at ?? 0) - refillMs });
    });
    expect((await invite(inviters[0] as { client: Client; cid: string })).status).toBe(201);
    expect((await invite(inviters[1] as { client: Client; cid: string })).status).toBe(201);
    expect(await invitationEmails()).toBe(capacity + 1);
  });
});

describe("live sessions", () => {
  /** The live sessions an account keeps, by class (migrations/0012_sessions_kept.sql). */
  const FULL_KEPT = 100;
  const HALF_KEPT = 20;
  const MINUTE = 60_000;

  async function sessionsOf(userId: string, stages: string[]): Promise<number> {
    return countOf(`SELECT count(*) AS n FROM sessions WHERE user_id = ? AND stage IN (${stages.map(() => "?").join(", ")})`, userId, ...stages);
  }

  /** `n` live rows of one stage, last used at `from`, `from + 1`, ...: what that many earlier logins would have left. */
  async function rows(userId: string, stage: string, n: number, from: number): Promise<void> {
    const statements = Array.from({ length: n }, (_, i) =>
      env.DB.prepare(
        `INSERT INTO sessions (id, public_id, user_id, stage, epoch, created_at, last_seen_at, expires_at, ip, user_agent)
         VALUES (?, ?, ?, ?, (SELECT session_epoch FROM users WHERE id = ?), ?, ?, ?, '192.0.2.1', 'a script')`,
      ).bind(
        `${stage}-${userId}-${i}`,
        `${stage}-public-${userId}-${i}`,
        userId,
        stage,
        userId,
        from + i,
        from + i,
        from + i + (stage === "authenticated" ? 12 * 60 : 10) * MINUTE,
      ),
    );
    for (let i = 0; i < statements.length; i += 100) await env.DB.batch(statements.slice(i, i + 100));
  }

  it("a script logging in to its own account again and again keeps at most 100 full sessions: the least recently used ends, its cookie gets 401", async () => {
    // A right password gives the throttle's tokens back: each login left a live row for up to an hour, without a count.
    const u = await newUser();
    // The owner's session was last used half an hour ago; 99 logins of a script came after it.
    await updateSession(u.client, { created_at: Date.now() - 30 * MINUTE, last_seen_at: Date.now() - 30 * MINUTE });
    await rows(u.id, "authenticated", FULL_KEPT - 1, Date.now() - 20 * MINUTE);

    const script = [await logIn(u.email), await logIn(u.email)].map((login) => login.client);

    expect(await sessionsOf(u.id, ["authenticated"])).toBe(FULL_KEPT);
    // The oldest went first: the owner's, then the script's first row; the newest stay.
    expect((await u.client.json("GET", "/api/me")).status).toBe(401);
    expect(await countOf("SELECT count(*) AS n FROM sessions WHERE id = ?", `authenticated-${u.id}-0`)).toBe(0);
    expect(await countOf("SELECT count(*) AS n FROM sessions WHERE id = ?", `authenticated-${u.id}-1`)).toBe(1);
    for (const client of script) expect((await client.json("GET", "/api/me")).status).toBe(200);
    // Every full session the account keeps is one the Security page lists, and can end.
    expect((await script[1]!.json("GET", "/api/security/sessions")).body.sessions).toHaveLength(FULL_KEPT);
  });

  it("the owner's full session survives any number of logins by someone who has only the password: half sessions are counted apart, the newest 20 kept", async () => {
    const u = await newUser();
    await enableTOTP(u.client);
    await rows(u.id, "authenticated", FULL_KEPT - 1, Date.now() - 20 * MINUTE);

    const halves = await halfSessions(u.email, HALF_KEPT + 5);

    expect(await sessionsOf(u.id, ["second_factor", "recovery"])).toBe(HALF_KEPT);
    expect(await sessionsOf(u.id, ["authenticated"])).toBe(FULL_KEPT);
    expect((await u.client.json("GET", "/api/me")).status).toBe(200);
    // The oldest half sessions ended; the newest still reach their second step (no key is set up: 409, not 401).
    for (const half of halves.slice(0, 5)) expect((await half.json("POST", "/api/auth/webauthn/options")).status).toBe(401);
    for (const half of halves.slice(5)) expect((await half.json("POST", "/api/auth/webauthn/options")).status).toBe(409);
    // The guard holds no more of them than D1 does.
    expect(await guardRows(u.id, "SELECT id FROM half_sessions")).toHaveLength(HALF_KEPT);
  });

  it("an ended half session is forgotten by the guard too: its second step is refused before it spends a code", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const first = await secondStepClient(u.email);
    const later = await halfSessions(u.email, HALF_KEPT);

    expect((await verify(first, "backup_code", backupCodes[0]!)).status).toBe(401);
    // The code was not spent by the refused step: a live half session still logs in with it.
    expect((await verify(later.at(-1)!, "backup_code", backupCodes[0]!)).status).toBe(200);
  });

  it("enrollment sessions, which a password alone opens when a community's policy is due, are counted apart from full and second-step ones", async () => {
    const u = await newUser();
    const now = Date.now();
    await updateSession(u.client, { created_at: now - 30 * MINUTE, last_seen_at: now - 30 * MINUTE });
    await rows(u.id, "authenticated", FULL_KEPT, now - 5 * MINUTE);
    await rows(u.id, "second_factor", HALF_KEPT, now - 4 * MINUTE);
    await rows(u.id, "enrollment", HALF_KEPT + 10, now - 3 * MINUTE);

    expect(await sessionsOf(u.id, ["authenticated"])).toBe(FULL_KEPT);
    expect(await sessionsOf(u.id, ["second_factor", "recovery"])).toBe(HALF_KEPT);
    expect(await sessionsOf(u.id, ["enrollment"])).toBe(HALF_KEPT);
    expect(await countOf("SELECT count(*) AS n FROM sessions WHERE id = ?", `enrollment-${u.id}-${HALF_KEPT + 9}`)).toBe(1);
    // newUser's own login was the least recently used full session.
    expect((await u.client.json("GET", "/api/me")).status).toBe(401);
  });

  it("a second step that completes moves its session among the full ones, which stay capped", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const half = await secondStepClient(u.email);
    await updateSession(u.client, { created_at: Date.now() - 30 * MINUTE, last_seen_at: Date.now() - 30 * MINUTE });
    await rows(u.id, "authenticated", FULL_KEPT - 1, Date.now() - 20 * MINUTE);

    expect((await verify(half, "backup_code", backupCodes[0]!)).status).toBe(200);

    expect(await sessionsOf(u.id, ["authenticated"])).toBe(FULL_KEPT);
    expect((await half.json("GET", "/api/me")).status).toBe(200);
    expect((await u.client.json("GET", "/api/me")).status).toBe(401);
  });

  it("another account's sessions are not counted with this one's", async () => {
    const [a, b] = [await newUser(), await newUser()];
    await rows(a.id, "authenticated", FULL_KEPT + 5, Date.now() - 20 * MINUTE);
    expect(await sessionsOf(a.id, ["authenticated"])).toBe(FULL_KEPT);
    expect((await b.client.json("GET", "/api/me")).status).toBe(200);
  });
});
