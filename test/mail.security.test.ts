import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { OUTBOX_ID_HEADER } from "../src/notify/transport";
import { resetMember, resetWorld } from "./support/fixtures";
import { guard } from "./support/stores";

/**
 * Mail that can never be delivered is given up, not retried forever
 * (docs/email.md "Retries"; docs/security.md R9m): an address that bounces
 * would otherwise keep a pending record and an hourly alarm in its guard for
 * good, and anyone can sign up with such addresses.
 *
 * The provider is Cloudflare's send_email binding. A test double stands in for
 * its answer about one address, as the platform documents it: a rejected
 * promise with an Error whose `code` says why (E_RECIPIENT_SUPPRESSED: the
 * address bounced before; E_DELIVERY_FAILED: this attempt could not be
 * delivered). Every other address goes through to the real local binding.
 */

type Sent = { to: string; headers?: Record<string, string> };

let send: MockInstance;
let warnings: MockInstance;
beforeEach(() => {
  const binding = env.EMAIL;
  const real = binding.send;
  send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => Reflect.apply(real, binding, [message]));
  warnings = vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => {
  send.mockRestore();
  warnings.mockRestore();
});

const DAY = 24 * 3_600_000;

function providerError(code: string, address: string): Error {
  // A provider may quote the address in its message; nothing of it may reach a log line or a row.
  return Object.assign(new Error(`${code}: ${address} rejected`), { code });
}

/** From now on the provider refuses every message to `address` with `code`; the others go through. Counts from here. */
function refuse(address: string, code: string): void {
  send.mockClear();
  const passThrough = send.getMockImplementation() as (message: unknown) => Promise<unknown>;
  send.mockImplementation((message: unknown) => ((message as Sent).to === address ? Promise.reject(providerError(code, address)) : passThrough(message)));
}

function attemptsTo(address: string): number {
  return send.mock.calls.filter((call) => (call[0] as Sent).to === address).length;
}

interface PendingRow {
  id: string;
  d1_done: number;
  mail_done: number;
  attempts: number;
}

async function pendingOf(userId: string): Promise<PendingRow[]> {
  return runInDurableObject(guard(userId), (_instance, state) => {
    return state.storage.sql.exec("SELECT id, d1_done, mail_done, attempts FROM pending ORDER BY rowid").toArray() as unknown as PendingRow[];
  });
}

/** The retry's time has come, and the records were made `age` ms ago. */
async function ageAndMakeDue(userId: string, age?: number): Promise<void> {
  await runInDurableObject(guard(userId), (_instance, state) => {
    if (age !== undefined) state.storage.sql.exec("UPDATE pending SET created_at = ?", Date.now() - age);
    state.storage.sql.exec("UPDATE pending SET next_at = 0");
  });
}

async function outboxRow(userId: string): Promise<{ id: string; sent_at: number | null; attempts: number; last_error: string | null } | null> {
  return env.DB.prepare("SELECT id, sent_at, attempts, last_error FROM outbox WHERE user_id = ? AND template = 'recovery_code_issued'").bind(userId).first();
}

function warned(): string[] {
  return warnings.mock.calls.map((call) => call.map(String).join(" "));
}

describe("undeliverable mail", () => {
  it("is given up after one attempt when the provider says the address can never receive it, and its record is gone", async () => {
    const world = await resetWorld();
    const { member } = world;
    refuse(member.email, "E_RECIPIENT_SUPPRESSED");
    await resetMember(world);

    expect(attemptsTo(member.email)).toBe(1);
    expect(await pendingOf(member.id)).toEqual([]);
    // The change and its D1 part stand; the outbox row says the message was given up, and why in a word.
    const row = await outboxRow(member.id);
    expect(row).toMatchObject({ sent_at: null, attempts: 1, last_error: "gave up: permanent" });
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'recovery_code_issued'")
      .bind(member.id)
      .first<{ n: number }>();
    expect(events?.n).toBe(1);
    // One line: the record, the kind of email, the attempts, the reason class; never the address or the provider's words.
    const lines = warned().filter((l) => l.includes("gave up"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^guard: pending record [A-Za-z0-9_-]+ gave up its recovery_code_issued email after 1 attempt \(permanent\) \(request [0-9a-f-]+\)$/,
    );
    expect(lines[0]).not.toContain(member.email);
    expect(lines[0]).not.toContain("rejected");

    // The alarm has nothing of it left to retry.
    await runDurableObjectAlarm(guard(member.id));
    expect(attemptsTo(member.email)).toBe(1);
  });

  it("is retried while the provider fails for now, then given up once the record is three days old", async () => {
    const world = await resetWorld();
    const { member } = world;
    // Email Service's "could not deliver" covers any SMTP failure, a temporary one too; a hard
    // bounce puts the address on its suppression list, so the next attempt says so for good.
    refuse(member.email, "E_DELIVERY_FAILED");
    await resetMember(world);
    expect(await pendingOf(member.id)).toMatchObject([{ d1_done: 1, mail_done: 0, attempts: 1 }]);

    // Two days and more: still retried.
    await ageAndMakeDue(member.id, 3 * DAY - 60_000);
    await runDurableObjectAlarm(guard(member.id));
    expect(attemptsTo(member.email)).toBe(2);
    expect(await pendingOf(member.id)).toMatchObject([{ d1_done: 1, mail_done: 0, attempts: 2 }]);
    expect((await outboxRow(member.id))?.last_error).toBe("Error");

    // Past three days: one last attempt, then given up.
    await ageAndMakeDue(member.id, 3 * DAY);
    await runDurableObjectAlarm(guard(member.id));
    expect(attemptsTo(member.email)).toBe(3);
    expect(await pendingOf(member.id)).toEqual([]);
    expect(await outboxRow(member.id)).toMatchObject({ sent_at: null, attempts: 3, last_error: "gave up: expired" });
    const lines = warned().filter((l) => l.includes("gave up"));
    expect(lines).toEqual([expect.stringMatching(/ gave up its recovery_code_issued email after 3 attempts \(expired\) \(request none\)$/)]);
    expect(lines[0]).not.toContain(member.email);

    await runDurableObjectAlarm(guard(member.id));
    expect(attemptsTo(member.email)).toBe(3);
  });

  it("never gives up a record's D1 part, however old: D1 learns the change, then its email gets its attempt", async () => {
    const world = await resetWorld();
    const { member } = world;
    send.mockClear();
    // A real D1 failure: the batch that records the reset cannot insert its outbox row.
    await env.DB.exec("ALTER TABLE outbox RENAME TO outbox_offline");
    try {
      await resetMember(world);
      await ageAndMakeDue(member.id, 10 * DAY);
      await runDurableObjectAlarm(guard(member.id));
      expect(await pendingOf(member.id)).toMatchObject([{ d1_done: 0, mail_done: 0, attempts: 2 }]);
    } finally {
      await env.DB.exec("ALTER TABLE outbox_offline RENAME TO outbox");
    }
    await ageAndMakeDue(member.id);
    await runDurableObjectAlarm(guard(member.id));

    expect(await pendingOf(member.id)).toEqual([]);
    const row = await outboxRow(member.id);
    expect(row?.sent_at).toEqual(expect.any(Number));
    expect(send.mock.calls.filter((call) => (call[0] as Sent).headers?.[OUTBOX_ID_HEADER] === row?.id)).toHaveLength(1);
    const user = await env.DB.prepare("SELECT recovery_expires_at FROM users WHERE id = ?").bind(member.id).first<{ recovery_expires_at: number | null }>();
    expect(user?.recovery_expires_at).toEqual(expect.any(Number));
    expect(warned().filter((l) => l.includes("gave up"))).toEqual([]);
  });
});
