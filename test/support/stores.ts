import { env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { expect, vi } from "vitest";
import type { SessionCaller } from "../../src/guard/types";
import type { UserGuard } from "../../src/guard/user-guard";
import type { Stage } from "../../src/session";
import type { Client } from "./client";
import type { TestUser } from "./fixtures";

/**
 * The stores the Worker uses, read and moved directly: D1 rows, a user's guard
 * (its tables, its clock through `now`, its alarm), the throttles, and
 * snapshots of all of them that make "nothing changed" checkable.
 */

/** A D1 trigger that fails or changes what the Worker writes, for the length of `run`: a real failure of the real database, injected. */
export async function withTrigger<T>(name: string, sql: string, run: () => Promise<T>): Promise<T> {
  await env.DB.prepare(sql).run();
  try {
    return await run();
  } finally {
    await env.DB.prepare(`DROP TRIGGER IF EXISTS ${name}`).run();
  }
}

/**
 * While `run` runs, D1 refuses every update of `column` on this user's row: an outage as a change of the guard's
 * meets D1, which the guard's alarm retries once `run` is over.
 */
export function refusingUserWrites<T>(column: "password_hash" | "session_epoch", userId: string, run: () => Promise<T>): Promise<T> {
  const name = `refuse_${column}`;
  return withTrigger(
    name,
    `CREATE TRIGGER ${name} BEFORE UPDATE OF ${column} ON users
     WHEN OLD.id = '${userId}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
    run,
  );
}

export function guard(userId: string) {
  return env.USER_GUARD.get(env.USER_GUARD.idFromName(userId));
}

/**
 * The guard's view of a caller at a chosen instant, in a session of the given
 * stage (second_factor unless told); no session epoch, so the guard skips that check.
 */
export function callerAt(user: Pick<TestUser, "id" | "email" | "name">, now: number, stage: Stage = "second_factor"): SessionCaller {
  return { user: { id: user.id, email: user.email, name: user.name }, ip: "192.0.2.1", userAgent: "vitest", now, stage };
}

/**
 * callerAt for a second step the guard knows: a half session recorded as a login records it (loginState),
 * live until `until`, so a login challenge can be issued to it and spent by it (src/guard/ceremonies.ts).
 * `g`: the guard's stub, or its instance inside runInDurableObject.
 */
export async function halfCallerAt(
  g: { loginState(...args: Parameters<UserGuard["loginState"]>): unknown },
  user: Pick<TestUser, "id" | "email" | "name">,
  now: number,
  until = now + 10 * 60_000,
): Promise<SessionCaller> {
  const caller = { ...callerAt(user, now), sessionId: `half-${crypto.randomUUID()}` };
  await g.loginState(caller, null, { id: caller.sessionId, expiresAt: until, user: caller.user, lang: null, newBrowser: false, deviceGeneration: "test" });
  return caller;
}

/** callerAt for a full or enrollment session, with the public id a key's registration is bound to. */
export function sessionCallerAt(user: Pick<TestUser, "id" | "email" | "name">, now: number, stage: Stage = "authenticated"): SessionCaller {
  return { ...callerAt(user, now, stage), sessionPublicId: `session-${crypto.randomUUID()}` };
}

// ---- D1 -------------------------------------------------------------------

/** SHA-256 hex of a token, computed here (noble), not with the service's helper: a session row's id. */
export function tokenHash(token: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(token)));
}

export interface SessionRow {
  id: string;
  user_id: string;
  stage: string;
  epoch: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  reauth_at: number | null;
  /** 1 when the password step came from a browser without the account's device cookie, after a full login on record. */
  new_browser: number;
}

/** The D1 row behind a client's cookie, or null. */
export async function sessionRow(client: Client): Promise<SessionRow | null> {
  if (!client.cookie) return null;
  return env.DB.prepare("SELECT * FROM sessions WHERE id = ?").bind(tokenHash(client.cookie)).first<SessionRow>();
}

/** Moves a session's timestamps by editing its D1 row (moving the Worker's clock instead: vi.useFakeTimers, see sessions.security.test.ts "absolute"). */
export async function updateSession(
  client: Client,
  fields: Partial<Pick<SessionRow, "created_at" | "last_seen_at" | "expires_at" | "reauth_at">>,
): Promise<void> {
  const keys = Object.keys(fields) as (keyof typeof fields)[];
  const sets = keys.map((k) => `${k} = ?`).join(", ");
  const res = await env.DB.prepare(`UPDATE sessions SET ${sets} WHERE id = ?`)
    .bind(...keys.map((k) => fields[k] ?? null), tokenHash(client.cookie ?? ""))
    .run();
  expect(res.meta.changes).toBe(1);
}

const TABLES = ["users", "sessions", "communities", "memberships", "invitations", "methods", "events", "outbox"] as const;

/** Row counts of every D1 table, to prove a refused request wrote nothing. */
export async function rowCounts(): Promise<Record<string, number>> {
  const results = await env.DB.batch(TABLES.map((t) => env.DB.prepare(`SELECT count(*) AS n FROM ${t}`)));
  return Object.fromEntries(TABLES.map((t, i) => [t, (results[i]!.results[0] as { n: number }).n]));
}

export interface OutboxRow {
  id: string;
  recipient: string;
  template: string;
  subject: string;
  body: string;
}

/** The emails the service decided to send to a user (D1's outbox). */
export async function outboxOf(userId: string): Promise<OutboxRow[]> {
  const { results } = await env.DB.prepare("SELECT id, recipient, template, subject, body FROM outbox WHERE user_id = ? ORDER BY created_at, rowid")
    .bind(userId)
    .all<OutboxRow>();
  return results;
}

/** The security event types recorded for a user in D1, oldest first. */
export async function eventTypesOf(userId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT type FROM events WHERE user_id = ? ORDER BY at, rowid").bind(userId).all<{ type: string }>();
  return results.map((r) => r.type);
}

// ---- the user's guard -------------------------------------------------------

/** Rows of one of the guard's own SQLite tables, read inside the Durable Object. */
export async function guardRows<T = Record<string, SqlStorageValue>>(userId: string, sql: string, ...params: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(guard(userId), (_instance, state) => state.storage.sql.exec(sql, ...params).toArray() as T[]);
}

/** The guard's counters only (failures, lock, epoch), for attempts that must or must not count. */
export async function guardCounters(userId: string): Promise<{ failures: number; locked_until: number; epoch: number }> {
  const [row] = await guardRows<{ failures: number; locked_until: number; epoch: number }>(
    userId,
    "SELECT failures, locked_until, epoch FROM state WHERE id = 1",
  );
  return row as { failures: number; locked_until: number; epoch: number };
}

export interface RecoveryRow {
  hash: string;
  issued_by: string;
  issued_at: number;
  expires_at: number;
}

/** The recovery code row in the member's guard, if any. */
export async function recoveryRow(userId: string): Promise<RecoveryRow | null> {
  const [row] = await guardRows<RecoveryRow>(userId, "SELECT hash, issued_by, issued_at, expires_at FROM recovery");
  return row ?? null;
}

/**
 * Moves the recovery code's expiry in both stores, as 24 hours passing would:
 * the guard's row (the truth) and D1's copy for listing.
 */
export async function moveRecoveryExpiry(userId: string, expiresAt: number): Promise<void> {
  const moved = await runInDurableObject(guard(userId), (_instance, state) => {
    return state.storage.sql.exec("UPDATE recovery SET expires_at = ? RETURNING 1", expiresAt).toArray().length;
  });
  expect(moved).toBe(1);
  await env.DB.prepare("UPDATE users SET recovery_expires_at = ? WHERE id = ?").bind(expiresAt, userId).run();
}

// ---- snapshots: "nothing changed" made checkable ------------------------------

type Row = Record<string, SqlStorageValue>;
type PlainRow = Record<string, unknown>;

function plain(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `hex:${[...new Uint8Array(value)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  return value;
}

function plainRows(rows: Row[]): PlainRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
}

const OWN_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'";

/** Every row of every D1 table. */
export async function d1Snapshot(): Promise<Record<string, PlainRow[]>> {
  const { results: tables } = await env.DB.prepare(`${OWN_TABLES} AND name <> 'd1_migrations' ORDER BY name`).all<{ name: string }>();
  const out: Record<string, PlainRow[]> = {};
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all<Row>();
    out[name] = plainRows(results);
  }
  return out;
}

/** Every row of one user's guard, plus its alarm. */
export async function guardSnapshot(userId: string): Promise<Record<string, unknown>> {
  return runInDurableObject(guard(userId), async (_instance, state) => {
    const sql = state.storage.sql;
    const out: Record<string, unknown> = { alarm: await state.storage.getAlarm() };
    for (const { name } of sql.exec<{ name: string }>(OWN_TABLES).toArray())
      out[name] = plainRows(sql.exec<Row>(`SELECT * FROM "${name}" ORDER BY rowid`).toArray());
    return out;
  });
}

/** Every text stored anywhere for this user: all D1 tables and all of the user's guard tables. */
export async function everythingStored(userId: string): Promise<string> {
  return [JSON.stringify(await d1Snapshot()), JSON.stringify(await guardSnapshot(userId))].join("\n");
}

export async function throttleSnapshot(keys: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    out[k] = await runInDurableObject(env.THROTTLE.get(env.THROTTLE.idFromName(k)), async (_instance, state) => state.storage.kv.get("bucket") ?? null);
  }
  return out;
}

/** The throttle keys a login for this email from this client touches (src/auth/password-check.ts). */
export function loginThrottleKeys(email: string, ip: string): string[] {
  return [`email:${tokenHash(email)}`, `client:${ip}`];
}

/** D1 and the guards of every user D1 knows. */
export async function worldSnapshot(
  extraThrottleKeys: string[] = [],
): Promise<{ d1: Record<string, PlainRow[]>; guards: Record<string, unknown>; throttles: Record<string, unknown> }> {
  const d1 = await d1Snapshot();
  const guards: Record<string, unknown> = {};
  for (const u of (d1.users ?? []) as { id: string }[]) guards[u.id] = await guardSnapshot(u.id);
  return { d1, guards, throttles: await throttleSnapshot(extraThrottleKeys) };
}

/** The D1 statements the Worker prepares while `fn` runs: it uses this same binding object, so every one is seen here. */
export async function statementsDuring(fn: () => Promise<void>): Promise<string[]> {
  const prepared: string[] = [];
  const db = env.DB;
  const real = db.prepare;
  const spy = vi.spyOn(db, "prepare").mockImplementation((query: string) => {
    prepared.push(query);
    return Reflect.apply(real, db, [query]);
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return prepared;
}
