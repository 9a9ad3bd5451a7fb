import { expect } from "vitest";
import { Client, withLanguage } from "./client";
import { previousStepCode } from "./codes";
import { guardRows } from "./stores";

/**
 * Users, communities and logged-in states, each made through the real API
 * as a user would make it. Storage is isolated per test file, never per test:
 * every fixture makes new users with unique emails.
 */

export const PASSWORD = "correct horse battery staple";

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
  client: Client;
}

/**
 * Marks a user's email proven, as opening the signup email's link would,
 * without the link (no event, no mail): for tests about something else that
 * needs a proven address, such as accepting an invitation.
 * test/email-tokens.security.test.ts proves the link itself.
 */
export async function proveEmail(userId: string): Promise<void> {
  await guardRows(userId, "UPDATE state SET email_verified = 1 WHERE id = 1 RETURNING id");
  // As the link's claim does: the verification link still out is retired.
  await guardRows(userId, "DELETE FROM tokens WHERE purpose = 'verify_email' RETURNING purpose");
}

/**
 * Signs up and logs in; the client holds an `authenticated` session (and the
 * community's id when one was made). The email is proven unless
 * `verified: false` (the state a user is in right after signup). With
 * `acceptLanguage`, every request of the client sends it, as a browser in
 * that language would.
 */
export async function newUser(
  opts: { community?: string; name?: string; verified?: boolean; acceptLanguage?: string } = {},
): Promise<TestUser & { communityId?: string }> {
  const client = opts.acceptLanguage ? withLanguage(new Client(), opts.acceptLanguage) : new Client();
  const email = uniqueEmail();
  const name = opts.name ?? "Test User";
  const signup = await client.json("POST", "/api/auth/signup", { email, password: PASSWORD, name, ...(opts.community ? { community: opts.community } : {}) });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
  const login = await client.json("POST", "/api/auth/login", { email, password: PASSWORD });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const user: TestUser & { communityId?: string } = { id: signup.body.user.id, email, name, client };
  if (opts.verified !== false) await proveEmail(user.id);
  if (opts.community) {
    const me = await client.json("GET", "/api/me");
    user.communityId = me.body.communities[0].id;
  }
  return user;
}

/** Re-enters the password: sensitive changes are open for 10 minutes. */
export async function reauth(client: Client): Promise<void> {
  const res = await client.post("/api/security/reauth", { password: PASSWORD });
  if (res.status !== 204) throw new Error(`reauth failed: ${res.status}`);
}

// ---- two-factor methods ----------------------------------------------------

/**
 * Adds an authenticator app to a client's account (re-entering the password
 * first unless told not to: an `enrollment` session need not). The confirming
 * code is the previous step's, so the current step stays free for a login
 * right after. `backupCodes` is what the confirmation answered: ten codes when
 * it turned 2FA on, null for a further app.
 */
export async function addAuthenticatorApp(
  client: Client,
  opts: { name?: string; reauth?: boolean } = {},
): Promise<{ secret: string; methodId: string; backupCodes: string[] | null }> {
  if (opts.reauth !== false) await reauth(client);
  const start = await client.json("POST", "/api/security/totp", { name: opts.name ?? "Phone" });
  if (start.status !== 201) throw new Error(`totp start failed: ${start.status} ${JSON.stringify(start.body)}`);
  const confirm = await client.json("POST", `/api/security/totp/${start.body.id}/confirm`, { code: await previousStepCode(start.body.secret) });
  if (confirm.status !== 200) throw new Error(`totp confirm failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  return { secret: start.body.secret, methodId: confirm.body.method.id, backupCodes: confirm.body.backupCodes ?? null };
}

/** Turns 2FA on with a first authenticator app ("Phone"); its ten backup codes come with it. */
export async function enableTOTP(client: Client): Promise<{ secret: string; methodId: string; backupCodes: string[] }> {
  const app = await addAuthenticatorApp(client);
  return { ...app, backupCodes: app.backupCodes ?? [] };
}

// ---- logging in part way ------------------------------------------------------

/** A new client that gave the account's password: its session stops at whatever the account needs next. */
export async function logIn(email: string, password = PASSWORD): Promise<{ client: Client; body: any }> {
  const client = new Client();
  const res = await client.json("POST", "/api/auth/login", { email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { client, body: res.body };
}

/** A new client past the password step of an account with 2FA on: `second_factor`. */
export async function secondStepClient(email: string): Promise<Client> {
  const { client, body } = await logIn(email);
  expect(body.status).toBe("second_factor_required");
  return client;
}

/**
 * `n` half-logged-in sessions of one account, logged in one after another: a
 * correct password refunds its throttle token only after the check, so
 * parallel logins of one email would be slowed down by the login throttle.
 */
export async function halfSessions(email: string, n: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) clients.push(await secondStepClient(email));
  return clients;
}

/** A new client past the password step of a member whose 2FA an admin reset: `recovery`. */
export async function recoveryClient(member: Pick<TestUser, "email">): Promise<Client> {
  const { client, body } = await logIn(member.email);
  expect(body).toEqual({ status: "recovery_code_required", methods: ["recovery_code"] });
  return client;
}

export async function verify(client: Client, method: string, code: string) {
  return client.json("POST", "/api/auth/verify", { method, code });
}

/** A user with an authenticator app, and a fresh client whose login stopped at `second_factor`. */
export async function halfLoggedIn(): Promise<{ user: TestUser; secret: string; half: Client }> {
  const user = await newUser();
  const { secret } = await enableTOTP(user.client);
  return { user, secret, half: await secondStepClient(user.email) };
}

// ---- communities and resets ------------------------------------------------------

/**
 * An admin of a community with one other member who joined by invitation,
 * the admin's password freshly re-entered: a caller that gets past every
 * session, stage, membership and sudo check of the contract.
 */
export interface AdminWorld {
  admin: TestUser & { communityId: string };
  member: TestUser;
  cid: string;
}

export async function communityWithMember(role: "admin" | "member" = "member"): Promise<AdminWorld> {
  const admin = (await newUser({ community: `Acme ${Math.random().toString(36).slice(2, 8)}`, name: "Ada Admin" })) as TestUser & { communityId: string };
  const member = await newUser({ name: "Mo Member" });
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role });
  if (invite.status !== 201) throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  const accept = await member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
  if (accept.status !== 200) throw new Error(`accept failed: ${accept.status} ${JSON.stringify(accept.body)}`);
  await reauth(admin.client);
  return { admin, member, cid: admin.communityId };
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface ResetWorld extends AdminWorld {
  totp: { secret: string; methodId: string; backupCodes: string[] };
}

/** A community whose admin has 2FA on (only such an admin may reset) and whose member has an authenticator app. */
export async function resetWorld(): Promise<ResetWorld> {
  const world = await communityWithMember();
  await enableTOTP(world.admin.client);
  const totp = await enableTOTP(world.member.client);
  return { ...world, totp };
}

export function resetPath(world: AdminWorld, uid = world.member.id, cid = world.admin.communityId): string {
  return `/api/communities/${cid}/members/${uid}/reset-2fa`;
}

/** The admin resets the member through the API; the answer holds the recovery code. */
export async function resetMember(world: AdminWorld): Promise<{ recoveryCode: string; expiresAt: string }> {
  const res = await world.admin.client.json("POST", resetPath(world), { password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A member reset by their admin: a client at the `recovery` stage and the recovery code. */
export async function recoveryLogin(): Promise<{ member: TestUser; code: string; client: Client }> {
  const world = await resetWorld();
  const { recoveryCode } = await resetMember(world);
  return { member: world.member, code: recoveryCode, client: await recoveryClient(world.member) };
}
