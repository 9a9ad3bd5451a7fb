import { env, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { type AdminWorld, adminWorld } from "./contract";
import { Client, enableTOTP, guard, PASSWORD, type TestUser } from "./helpers";

/**
 * Helpers for the admin-reset tests: a community whose member has 2FA on, the
 * reset itself through the API, and direct looks into the member's guard and
 * D1 (the real stores the Worker uses) where a test must see what is stored.
 */

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface ResetWorld extends AdminWorld {
  totp: { secret: string; methodId: string; backupCodes: string[] };
}

/**
 * An admin with 2FA on (only such an admin may reset) and a fresh re-entered
 * password, and a member (joined by invitation) with an authenticator app.
 */
export async function resetWorld(): Promise<ResetWorld> {
  const world = await adminWorld();
  await enableTOTP(world.admin.client);
  const totp = await enableTOTP(world.member.client);
  return { ...world, totp };
}

export function resetPath(world: AdminWorld, uid = world.member.id, cid = world.admin.communityId): string {
  return `/api/communities/${cid}/members/${uid}/reset-2fa`;
}

export async function resetMember(world: AdminWorld): Promise<{ recoveryCode: string; expiresAt: string }> {
  const res = await world.admin.client.json("POST", resetPath(world), { password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A new client logged in with the member's password: after a reset, a `recovery` session. */
export async function recoveryClient(member: TestUser): Promise<Client> {
  const client = new Client();
  const login = await client.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
  expect(login.body).toEqual({ status: "recovery_code_required", methods: ["recovery_code"] });
  return client;
}

export interface RecoveryRow {
  hash: string;
  issued_by: string;
  issued_at: number;
  expires_at: number;
}

/** The recovery code row in the member's guard, if any. */
export async function recoveryRow(userId: string): Promise<RecoveryRow | null> {
  return runInDurableObject(guard(userId), (_instance, state) => {
    return (state.storage.sql.exec("SELECT hash, issued_by, issued_at, expires_at FROM recovery").toArray()[0] as RecoveryRow | undefined) ?? null;
  });
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

/** Every text stored anywhere for this user: all D1 tables and all of the user's guard tables. */
export async function everythingStored(userId: string): Promise<string> {
  const { results: tables } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{
    name: string;
  }>();
  const parts: string[] = [];
  for (const t of tables) {
    const { results } = await env.DB.prepare(`SELECT * FROM "${t.name}"`).all();
    parts.push(JSON.stringify(results));
  }
  parts.push(
    await runInDurableObject(guard(userId), (_instance, state) => {
      const names = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
        .toArray();
      return names.map((n) => JSON.stringify(state.storage.sql.exec(`SELECT * FROM "${n.name}"`).toArray())).join("\n");
    }),
  );
  return parts.join("\n");
}

/** The forms a person might type a code in: as given, upper case, without dashes. */
export function codeForms(code: string): string[] {
  const bare = code.replace(/-/g, "");
  return [code, code.toUpperCase(), bare, bare.toUpperCase()];
}
