import { env, runInDurableObject } from "cloudflare:test";
import { sha256Hex } from "../src/lib/sha256";
import { guard } from "./helpers";

/**
 * "Nothing changed" made checkable: every row of every D1 table, every row of
 * each user's guard tables (and its alarm), and the login throttles' buckets.
 * Attack tests take one before and one after a refused request and compare.
 */

type Row = Record<string, SqlStorageValue>;
type PlainRow = Record<string, unknown>;

function plain(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return `hex:${[...new Uint8Array(value)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  return value;
}

function plainRows(rows: Row[]): PlainRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plain(v)])));
}

export async function d1Snapshot(): Promise<Record<string, PlainRow[]>> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
  ).all<{ name: string }>();
  const out: Record<string, PlainRow[]> = {};
  for (const { name } of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all<Row>();
    out[name] = plainRows(results);
  }
  return out;
}

export const GUARD_TABLES = ["state", "totp", "webauthn", "challenges", "backup_codes", "recovery", "pending"] as const;

/** Every row of one user's guard, plus its alarm. Tables another issue has not created yet are skipped. */
export async function guardSnapshot(userId: string): Promise<Record<string, unknown>> {
  return runInDurableObject(guard(userId), async (_instance, state) => {
    const sql = state.storage.sql;
    const present = new Set(
      sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((r) => r.name),
    );
    const out: Record<string, unknown> = { alarm: await state.storage.getAlarm() };
    for (const t of present) {
      if (t.startsWith("sqlite_") || t.startsWith("_cf_")) continue;
      out[t] = plainRows(sql.exec<Row>(`SELECT * FROM "${t}" ORDER BY rowid`).toArray());
    }
    return out;
  });
}

/** The guard's counters only (failures, lock, epoch), for attempts that must not count. */
export async function guardCounters(userId: string): Promise<{ failures: number; locked_until: number; epoch: number }> {
  return runInDurableObject(guard(userId), async (_instance, state) =>
    state.storage.sql.exec<{ failures: number; locked_until: number; epoch: number }>("SELECT failures, locked_until, epoch FROM state WHERE id = 1").one(),
  );
}

export async function throttleSnapshot(keys: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    out[k] = await runInDurableObject(env.THROTTLE.get(env.THROTTLE.idFromName(k)), async (_instance, state) => state.storage.kv.get("bucket") ?? null);
  }
  return out;
}

/** The throttle keys a login for this email from this client touches (src/auth/login.ts). */
export function loginThrottleKeys(email: string, ip: string): string[] {
  return [`email:${sha256Hex(email)}`, `client:${ip}`];
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
