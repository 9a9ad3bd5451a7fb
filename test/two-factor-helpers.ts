import { env, runInDurableObject } from "cloudflare:test";
import * as OTPAuth from "otpauth";
import { expect } from "vitest";
import type { SessionCaller } from "../src/guard/types";
import type { Stage } from "../src/session";
import { Client, guard, PASSWORD, previousStepCode, reauth, type TestUser, totpCode } from "./helpers";

/**
 * Helpers for the two-factor tests (issue 3). Codes come from `otpauth`; the
 * guard is reached through its real Durable Object stub (to move its clock by
 * passing `now`) or read with runInDurableObject; D1 is read directly.
 */

export const STEP_MS = 30_000;

/**
 * The guard's view of a caller at a chosen instant, in a session of the given
 * stage (second_factor unless told); no session epoch, so the guard skips that check.
 */
export function callerAt(user: Pick<TestUser, "id" | "email" | "name">, now: number, stage: Stage = "second_factor"): SessionCaller {
  return { user: { id: user.id, email: user.email, name: user.name }, ip: "192.0.2.1", userAgent: "vitest", now, stage };
}

/** The code of a given 30-second step, computed by otpauth. */
export function codeOfStep(secret: string, step: number): string {
  return totpCode(secret, step * STEP_MS + 1);
}

/** A well-formed code that matches none of the steps around `now`: a guaranteed wrong code. */
export function wrongTOTP(secret: string, now = Date.now()): string {
  const step = Math.floor(now / STEP_MS);
  const near = new Set([-2, -1, 0, 1, 2].map((d) => codeOfStep(secret, step + d)));
  for (let n = 0; ; n++) {
    const candidate = String((Number(codeOfStep(secret, step)) + 1 + n * 7919) % 1_000_000).padStart(6, "0");
    if (!near.has(candidate)) return candidate;
  }
}

/** A new client with a password-only login: in `second_factor` when the account has 2FA. */
export async function logIn(email: string, password = PASSWORD): Promise<{ client: Client; body: any }> {
  const client = new Client();
  const res = await client.json("POST", "/api/auth/login", { email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { client, body: res.body };
}

/**
 * `n` half-logged-in sessions of one account, logged in one after another: a
 * correct password refunds its throttle token only after the check, so
 * parallel logins of one email would be slowed down by the login throttle.
 */
export async function halfSessions(email: string, n: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    const { client, body } = await logIn(email);
    expect(body.status).toBe("second_factor_required");
    clients.push(client);
  }
  return clients;
}

export async function verify(client: Client, method: string, code: string) {
  return client.json("POST", "/api/auth/verify", { method, code });
}

/** Adds an authenticator app to an `authenticated` client (re-entering the password first). */
export async function addAuthenticator(client: Client, name: string): Promise<{ secret: string; methodId: string; backupCodes?: string[] }> {
  await reauth(client);
  const start = await client.json("POST", "/api/security/totp", { name });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  // The previous step's code, so the current one is still free for a login right after.
  const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
  expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
  return { secret: start.body.secret, methodId: confirm.body.method.id, backupCodes: confirm.body.backupCodes };
}

/** Rows of one of the guard's own SQLite tables, read inside the Durable Object. */
export async function guardRows<T = Record<string, SqlStorageValue>>(userId: string, sql: string, ...params: SqlStorageValue[]): Promise<T[]> {
  return runInDurableObject(guard(userId), (_instance, state) => state.storage.sql.exec(sql, ...params).toArray() as T[]);
}

export async function guardState(userId: string): Promise<{ failures: number; locked_until: number; epoch: number }> {
  const [row] = await guardRows<{ failures: number; locked_until: number; epoch: number }>(userId, "SELECT failures, locked_until, epoch FROM state");
  return row as { failures: number; locked_until: number; epoch: number };
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

/** An independent parse of an otpauth:// URI. */
export function parseOTPAuthURI(uri: string): OTPAuth.TOTP {
  const parsed = OTPAuth.URI.parse(uri);
  if (!(parsed instanceof OTPAuth.TOTP)) throw new Error("not a TOTP URI");
  return parsed;
}
