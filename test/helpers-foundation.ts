import { env, SELF } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { expect } from "vitest";
import { Client, enableTOTP, newUser, ORIGIN, PASSWORD, type TestUser, uniqueEmail } from "./helpers";

/**
 * Helpers for the foundation's integration tests: reading D1 directly (the
 * real database the Worker uses), moving a session's clock, and the real flows
 * that put a session in each stage.
 */

/** SHA-256 hex of a token, computed here (noble), not with the service's helper. */
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

/** The Set-Cookie header split into its name, value and attributes. */
/** The `__Host-session` entry among a response's Set-Cookie headers (login also sets `__Host-device`). */
export function sessionCookieOf(res: Response): string | null {
  return res.headers.getSetCookie().find((c) => c.startsWith("__Host-session=")) ?? null;
}

export function parseSetCookie(header: string | null): { name: string; value: string; attributes: string[] } | null {
  if (!header) return null;
  const [pair, ...attributes] = header.split(";").map((s) => s.trim());
  const eq = (pair ?? "").indexOf("=");
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/** A client that sends its own raw request (no helper defaults), for header-level tests. */
export function rawFetch(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}${path}`, init);
}

/** A user with TOTP on, and a fresh client whose login stopped at `second_factor`. */
export async function halfLoggedIn(): Promise<{ user: TestUser; secret: string; half: Client }> {
  const user = await newUser();
  const { secret } = await enableTOTP(user.client);
  const half = new Client();
  const login = await half.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  expect(login.body.status).toBe("second_factor_required");
  return { user, secret, half };
}

/** An admin with a community, and a member who joined by accepting an invitation. */
export async function communityWithMember(role: "admin" | "member" = "member"): Promise<{ admin: TestUser; member: TestUser; cid: string }> {
  const admin = await newUser({ community: `Community ${uniqueEmail("c").slice(0, 12)}`, name: "Admin" });
  const member = await newUser({ name: "Member" });
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role });
  expect(invite.status).toBe(201);
  const accept = await member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
  expect(accept.status).toBe(200);
  return { admin, member, cid: admin.communityId! };
}

/**
 * A member reset by their admin: returns a client at the `recovery` stage and
 * the recovery code. Uses the real reset endpoint.
 */
export async function recoveryLogin(): Promise<{ member: TestUser; code: string; client: Client }> {
  const { admin, member, cid } = await communityWithMember();
  await enableTOTP(member.client);
  // Only an admin with 2FA may reset (enableTOTP re-enters the password too).
  await enableTOTP(admin.client);
  const reset = await admin.client.json("POST", `/api/communities/${cid}/members/${member.id}/reset-2fa`, { password: PASSWORD });
  expect(reset.status).toBe(200);
  const client = new Client();
  const login = await client.json("POST", "/api/auth/login", { email: member.email, password: PASSWORD });
  expect(login.body.status).toBe("recovery_code_required");
  return { member, code: reset.body.recoveryCode, client };
}
