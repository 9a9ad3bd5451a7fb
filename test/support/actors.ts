import { env } from "cloudflare:test";
import { expect } from "vitest";
import { AGENTS, withUserAgent } from "./client";
import { enableTOTP, newUser, type TestUser } from "./fixtures";

/**
 * An admin acting on other people's accounts from an address and a browser of
 * their own, for the tests that check what the other people are shown
 * (test/reset-disclosure.security.test.ts, test/actor-privacy.security.test.ts).
 */
export type Admin = TestUser & { communityId: string };

/** The admin's browser, and how the service names it in each language. */
export const [ADMIN_AGENT, ADMIN_BROWSER_EN] = AGENTS.desk;
export const ADMIN_BROWSER_FR = "Chrome sous Windows";

/** A new admin of a community of their own, with 2FA on, whose requests come from `ip` in ADMIN_AGENT. */
export async function adminFrom(ip: string, community: string): Promise<Admin> {
  const admin = (await newUser({ community: `${community} ${Math.random().toString(36).slice(2, 8)}`, name: "Ada Admin" })) as Admin;
  admin.client.ip = ip;
  withUserAgent(admin.client, ADMIN_AGENT);
  await enableTOTP(admin.client);
  return admin;
}

/** `who` joins the admin's community as a member, by invitation. */
export async function join(admin: Admin, who: TestUser): Promise<void> {
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: who.email, role: "member" });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  expect((await who.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
}

/** The newest email of `template` to `recipient`, from the outbox. */
export async function mailTo(recipient: string, template: string): Promise<{ subject: string; body: string }> {
  const row = await env.DB.prepare("SELECT subject, body FROM outbox WHERE recipient = ? AND template = ? ORDER BY created_at DESC, rowid DESC")
    .bind(recipient, template)
    .first<{ subject: string; body: string }>();
  if (!row) throw new Error(`no ${template} email to ${recipient}`);
  return row;
}
