import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { OUTBOX_ID_HEADER } from "../src/notify/transport";
import { Client, withUserAgent } from "./support/client";
import { previousStepCode } from "./support/codes";
import { PASSWORD, recoveryClient, resetMember, resetWorld } from "./support/fixtures";
import { everyEvent } from "./support/journey";
import { guard } from "./support/stores";

/**
 * The durable outbox (docs/architecture.md "Changes that touch both stores"; docs/email.md):
 * the guard records the email with the change, D1 follows in order, the
 * transport (Cloudflare's send_email binding) delivers, the alarm retries.
 *
 * In vitest the local binding accepts every message and writes no file. The
 * Durable Object gets its own `env` object but the same EMAIL binding object as
 * `env` here, so a spy on `env.EMAIL.send` sees every send the guard makes. It
 * calls the real binding through; a failing provider is that binding rejecting
 * once (`mockRejectedValueOnce`): the platform's behaviour, not our code's.
 */

type Sent = { from: string; to: string; subject: string; text: string; headers?: Record<string, string> };

let send: MockInstance;
beforeEach(() => {
  const binding = env.EMAIL;
  const real = binding.send;
  // Reflect.apply: the binding is an RPC stub, which has no `.apply` of its own to call.
  send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => Reflect.apply(real, binding, [message]));
});
afterEach(() => {
  send.mockRestore();
});

function sentMails(): Sent[] {
  return send.mock.calls.map((call) => call[0] as Sent);
}

interface OutboxRow {
  id: string;
  user_id: string;
  recipient: string;
  template: string;
  subject: string;
  body: string;
  created_at: number;
  sent_at: number | null;
  attempts: number;
  last_error: string | null;
}

async function outboxOf(userId: string, template?: string): Promise<OutboxRow[]> {
  const sql = `SELECT * FROM outbox WHERE user_id = ?${template ? " AND template = ?" : ""} ORDER BY created_at, rowid`;
  const stmt = env.DB.prepare(sql);
  const { results } = await (template ? stmt.bind(userId, template) : stmt.bind(userId)).all<OutboxRow>();
  return results;
}

interface PendingRow {
  id: string;
  d1_done: number;
  mail_done: number;
  attempts: number;
  next_at: number;
  last_error: string | null;
}

async function pendingOf(userId: string): Promise<PendingRow[]> {
  return runInDurableObject(guard(userId), (_instance, state) => {
    return state.storage.sql
      .exec("SELECT id, d1_done, mail_done, attempts, next_at, last_error FROM pending ORDER BY rowid")
      .toArray() as unknown as PendingRow[];
  });
}

/** As if the retry's time had come: the alarm handler checks each record's own time. */
async function makeRetriesDue(userId: string): Promise<void> {
  await runInDurableObject(guard(userId), (_instance, state) => {
    state.storage.sql.exec("UPDATE pending SET next_at = 0");
  });
}

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** "Saturday, November 28, 2026 at 8:35:07 PM UTC" (an English email's time, CLDR's full date and long time) as epoch ms; NaN otherwise. */
function parseEnglishWhen(text: string): number {
  const m = /^\w+day, (\w+) (\d{1,2}), (\d{4}) at (\d{1,2}):(\d\d):(\d\d)\s?(AM|PM) UTC$/.exec(text);
  if (!m) return Number.NaN;
  const [, month, day, year, hour, minute, second, half] = m as unknown as string[];
  const h = (Number(hour) % 12) + (half === "PM" ? 12 : 0);
  return Date.UTC(Number(year), MONTHS.indexOf(month as string), Number(day), h, Number(minute), Number(second));
}

describe("the outbox", () => {
  it("records the email with the change and delivers it through the send_email binding", async () => {
    const world = await resetWorld();
    send.mockClear();
    await resetMember(world);
    const [row, ...others] = await outboxOf(world.member.id, "recovery_code_issued");
    expect(others).toEqual([]);
    expect(row).toMatchObject({ recipient: world.member.email, subject: "Your two-factor authentication was reset", attempts: 1, last_error: null });
    expect(row?.sent_at).toEqual(expect.any(Number));
    // By whom, for which community, when; the code itself goes through the admin, never by email.
    const me = await world.admin.client.json("GET", "/api/me");
    expect(row?.body).toContain("An admin of a community you belong to reset your two-factor authentication");
    expect(row?.body).toContain(
      `Admin, as they typed their name: ${JSON.stringify(world.admin.name)}\nCommunity name, as its admins typed it: ${JSON.stringify(me.body.communities[0].name)}`,
    );
    expect(row?.body).toMatch(/^When: .+ UTC$/m);
    const mails = sentMails().filter((m) => m.headers?.[OUTBOX_ID_HEADER] === row?.id);
    expect(mails).toEqual([{ from: env.MAIL_FROM, to: world.member.email, subject: row?.subject, text: row?.body, headers: { [OUTBOX_ID_HEADER]: row?.id } }]);
    expect(await pendingOf(world.member.id)).toEqual([]);
  });

  it("keeps a message the provider refused and redelivers it from the alarm after a backoff, exactly once", async () => {
    const world = await resetWorld();
    send.mockClear();
    send.mockRejectedValueOnce(new Error("provider unavailable"));
    const before = Date.now();
    await resetMember(world);

    // The change and its D1 part are done; only the delivery waits.
    const [row] = await outboxOf(world.member.id, "recovery_code_issued");
    expect(row).toMatchObject({ sent_at: null, attempts: 1 });
    // Only the error's class is stored, never its message (test/logs.security.test.ts).
    expect(row?.last_error).toBe("Error");
    const [pending, ...rest] = await pendingOf(world.member.id);
    expect(rest).toEqual([]);
    expect(pending).toMatchObject({ d1_done: 1, mail_done: 0, attempts: 1 });
    expect(pending?.last_error).toBe("Error");
    // Backoff: 4 s after the first failure (2 s doubled), well before the code's 24-hour deadline.
    expect(pending?.next_at).toBeGreaterThanOrEqual(before + 4_000);
    expect(pending?.next_at).toBeLessThanOrEqual(Date.now() + 4_000);
    const alarm = await runInDurableObject(guard(world.member.id), (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe(pending?.next_at);

    // An early alarm respects the backoff.
    expect(await runDurableObjectAlarm(guard(world.member.id))).toBe(true);
    expect(sentMails().filter((m) => m.headers?.[OUTBOX_ID_HEADER] === row?.id)).toHaveLength(1);

    await makeRetriesDue(world.member.id);
    expect(await runDurableObjectAlarm(guard(world.member.id))).toBe(true);
    const attempts = sentMails().filter((m) => m.headers?.[OUTBOX_ID_HEADER] === row?.id);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]).toEqual(attempts[0]);
    const [delivered, ...again] = await outboxOf(world.member.id, "recovery_code_issued");
    expect(again).toEqual([]);
    expect(delivered).toMatchObject({ attempts: 2, last_error: null });
    expect(delivered?.sent_at).toEqual(expect.any(Number));
    expect(await pendingOf(world.member.id)).toEqual([]);

    // Nothing is sent twice once delivered: the next alarm (the code's expiry) finds nothing to send.
    await runDurableObjectAlarm(guard(world.member.id));
    expect(sentMails().filter((m) => m.headers?.[OUTBOX_ID_HEADER] === row?.id)).toHaveLength(2);
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'recovery_code_issued'")
      .bind(world.member.id)
      .first<{ n: number }>();
    expect(events?.n).toBe(1);
  });

  it("loses nothing when D1 fails at the time of the change, and D1 learns the changes in their order", async () => {
    const world = await resetWorld();
    const { member } = world;
    send.mockClear();
    // A real D1 failure: the batch that records the reset cannot insert its outbox row, so none of it lands.
    await env.DB.exec("ALTER TABLE outbox RENAME TO outbox_offline");
    let recoveryCode: string;
    try {
      ({ recoveryCode } = await resetMember(world));
      const [pending] = await pendingOf(member.id);
      expect(pending).toMatchObject({ d1_done: 0, mail_done: 0, attempts: 1 });
      expect(sentMails().filter((m) => m.to === member.email)).toEqual([]);
      const copy = await env.DB.prepare("SELECT two_factor_enabled FROM users WHERE id = ?").bind(member.id).first<{ two_factor_enabled: number }>();
      expect(copy?.two_factor_enabled).toBe(1);
    } finally {
      await env.DB.exec("ALTER TABLE outbox_offline RENAME TO outbox");
    }

    // The guard was the truth all along: the member is already in recovery.
    const client = await recoveryClient(member);
    expect((await client.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
    const start = await client.json("POST", "/api/security/totp", { name: "After the outage" });
    const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
    expect(confirm.status).toBe(200);
    // Whatever retries remain, D1 must end as the guard is: the new app listed, 2FA on.
    await makeRetriesDue(member.id);
    await runDurableObjectAlarm(guard(member.id));

    expect(await pendingOf(member.id)).toEqual([]);
    const { results: methods } = await env.DB.prepare("SELECT id, name FROM methods WHERE user_id = ?").bind(member.id).all<{ id: string; name: string }>();
    expect(methods).toEqual([{ id: confirm.body.method.id, name: "After the outage" }]);
    const user = await env.DB.prepare("SELECT two_factor_enabled, recovery_expires_at FROM users WHERE id = ?")
      .bind(member.id)
      .first<{ two_factor_enabled: number; recovery_expires_at: number | null }>();
    expect(user).toEqual({ two_factor_enabled: 1, recovery_expires_at: null });
    const { results: events } = await env.DB.prepare(
      "SELECT type FROM events WHERE user_id = ? AND type IN ('recovery_code_issued', 'recovery_code_used', 'two_factor_enabled') ORDER BY rowid",
    )
      .bind(member.id)
      .all<{ type: string }>();
    expect(events.map((e) => e.type)).toEqual(["two_factor_enabled", "recovery_code_issued", "recovery_code_used", "two_factor_enabled"]);
    const [mail] = await outboxOf(member.id, "recovery_code_issued");
    expect(mail?.sent_at).toEqual(expect.any(Number));
    expect(sentMails().filter((m) => m.headers?.[OUTBOX_ID_HEADER] === mail?.id)).toHaveLength(1);
    // The member's session from before the reset died once D1 learned the new epoch.
    expect((await member.client.json("GET", "/api/me")).status).toBe(401);
  });
});

describe("the emails", () => {
  it("tell what happened, when, from where and what to do, and never carry a code or secret", async () => {
    const started = Date.now();
    const journey = await everyEvent();
    const { member, world } = journey;
    // Security events' emails (the signup's verification link is not one: test/email-tokens.security.test.ts).
    const rows = (await outboxOf(member.id)).filter((r) => r.template !== "verify_email");
    const templates = rows.map((r) => r.template);
    for (const t of [
      "two_factor_enabled",
      "method_added",
      "backup_codes_regenerated",
      "backup_code_used",
      "method_removed",
      "locked_out",
      "two_factor_disabled",
      "recovery_code_issued",
      "recovery_code_used",
    ]) {
      expect(templates, t).toContain(t);
    }
    // Renaming a method and changing the preference are logged, not mailed.
    expect(templates).not.toContain("method_renamed");
    expect(templates).not.toContain("preferred_method_changed");

    for (const row of rows) {
      expect(row.recipient).toBe(member.email);
      expect(row.sent_at, row.template).toEqual(expect.any(Number));
      const when = /^When: (.+)$/m.exec(row.body)?.[1];
      expect(when, row.template).toBeDefined();
      const at = parseEnglishWhen(when as string);
      expect(at).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000);
      expect(at).toBeLessThanOrEqual(Date.now());
      const from = /^From: (\S+) \((.+)\)$/m.exec(row.body);
      const candidates = journey.happened.filter((h) => h.type === row.template);
      // Someone else's act (an admin's reset) says no "From:" (docs/email.md).
      expect(
        candidates.some((h) => (h.ip === null ? from === null : h.ip === from?.[1] && h.described === from?.[2])),
        `${row.template}: ${from?.[0]}`,
      ).toBe(true);
      expect(row.body, row.template).toMatch(/If (this was not you|you did not ask for this)/);
    }
    const used = rows.find((r) => r.template === "backup_code_used");
    expect(used?.body).toContain("9 backup codes remain");
    const reset = rows.find((r) => r.template === "recovery_code_issued");
    expect(reset?.body).toContain(world.admin.name);

    const { results: invitations } = await env.DB.prepare("SELECT * FROM outbox WHERE recipient = ?").bind(journey.invitee).all<OutboxRow>();
    expect(invitations).toHaveLength(1);
    const invitation = invitations[0] as OutboxRow;
    expect(invitation.template).toBe("invitation");
    expect(invitation.sent_at).toEqual(expect.any(Number));
    expect(invitation.body).toContain(world.admin.name);
    expect(invitation.body).toMatch(/^When: /m);
    expect(invitation.body).toContain("http://localhost/");
    expect(invitation.body).toMatch(/ignore this email/);

    // What the binding was given is what the outbox holds, and nothing in it is a secret.
    const mails = sentMails();
    expect(mails.length).toBeGreaterThanOrEqual(rows.length + 1);
    for (const row of [...rows, invitation]) {
      const matching = mails.filter((m) => m.headers?.[OUTBOX_ID_HEADER] === row.id);
      expect(matching, row.template).toHaveLength(1);
      // The outbox keeps a link's token out of its copy (test/secrets.security.test.ts): compare without it.
      const delivered = { ...matching[0], text: matching[0]?.text.replace(/#token=[A-Za-z0-9_.-]+/g, "#token=[link removed from this copy]") };
      expect(delivered).toMatchObject({ to: row.recipient, subject: row.subject, text: row.body, from: env.MAIL_FROM });
    }
    const everything = JSON.stringify(mails).toLowerCase() + JSON.stringify([...rows, invitation]).toLowerCase();
    expect(journey.secrets.length).toBeGreaterThan(40);
    for (const secret of journey.secrets) {
      for (const form of new Set([secret, secret.replace(/-/g, "")])) expect(everything, "a secret reached an email").not.toContain(form.toLowerCase());
    }
    expect(everything).not.toContain(PASSWORD.toLowerCase());
  });

  it("a refused login does not send mail until the lock, and the lock's email names the guesser's address, not their words", async () => {
    const world = await resetWorld();
    send.mockClear();
    // The guesser chooses their User-Agent; it must not become text in our email.
    const crafted = "Security notice: visit https://evil.example/secure to keep your account (Windows) Firefox/1";
    const guesser = withUserAgent(new Client(), crafted);
    await guesser.json("POST", "/api/auth/login", { email: world.member.email, password: PASSWORD });
    for (let i = 0; i < 9; i++) await guesser.json("POST", "/api/auth/verify", { method: "backup_code", code: `zzzzz-zzzz${i}` });
    expect(sentMails().filter((m) => m.to === world.member.email)).toEqual([]);
    await guesser.json("POST", "/api/auth/verify", { method: "backup_code", code: "zzzzz-zzzzz" });
    const [lock, ...more] = sentMails().filter((m) => m.to === world.member.email);
    expect(more).toEqual([]);
    expect(lock?.subject).toBe("Two-factor login locked for 15 minutes");
    expect(lock?.text).toContain(`From: ${guesser.ip} (Firefox on Windows)`);
    expect(lock?.text).not.toMatch(/evil|https?:\/\/(?!localhost)|notice/i);
  });
});
