import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_AGENT, ADMIN_BROWSER_EN, ADMIN_BROWSER_FR, adminFrom, join, mailTo } from "./support/actors";
import { AGENTS, withUserAgent } from "./support/client";
import { enableTOTP, newUser, type TestUser } from "./support/fixtures";
import { setPolicy } from "./support/policy";
import { logInRemembering, TrustedClient } from "./support/trusted";

/**
 * Whatever one person's request writes into another user's log or inbox names
 * who acted and when, never that person's IP address or browser (docs/email.md
 * "Someone else's act…", docs/security.md R10f). The resets are covered by
 * test/reset-disclosure.security.test.ts; these are the other such acts.
 */

const ADMIN_IP = "203.0.113.91";

async function eventSeenBy(user: TestUser, type: string): Promise<Record<string, unknown>> {
  const page = await user.client.json("GET", "/api/security");
  expect(page.status).toBe(200);
  const event = page.body.events.find((e: { type: string }) => e.type === type);
  expect(event, type).toBeDefined();
  return event;
}

function expectNoWhere(event: Record<string, unknown>): void {
  expect(event).not.toHaveProperty("ip");
  expect(event).not.toHaveProperty("userAgent");
  expect(event).not.toHaveProperty("browser");
}

describe("someone else's act on a user's account shows the user who and when, not the other person's address or browser", () => {
  for (const [lang, acceptLanguage, browser, whenLabel, fromLabel] of [
    ["en", "en", ADMIN_BROWSER_EN, "When: ", "From: "],
    ["fr", "fr", ADMIN_BROWSER_FR, "Date\u00a0: ", "Depuis\u00a0: "],
  ] as const) {
    it(`${lang}: an admin removes a member: the member's event and email name the admin and the time, never the admin's IP address or browser`, async () => {
      const admin = await adminFrom(ADMIN_IP, "Private");
      const member = await newUser({ name: "Mo Member", acceptLanguage });
      withUserAgent(member.client, AGENTS.laptop[0]);
      await join(admin, member);
      expect((await admin.client.request("DELETE", `/api/communities/${admin.communityId}/members/${member.id}`)).status).toBe(204);

      const mail = await mailTo(member.email, "member_removed");
      expect(mail.body).toContain(JSON.stringify(admin.name));
      expect(mail.body).toContain(whenLabel);
      expect(mail.body).not.toContain(fromLabel);
      expect(mail.body).not.toContain(ADMIN_IP);
      expect(mail.body).not.toContain(browser);

      const removed = await eventSeenBy(member, "member_removed");
      expect(removed).toMatchObject({ actor: { id: admin.id, name: admin.name }, at: expect.any(String) });
      expectNoWhere(removed);
    });
  }

  it("a member who leaves is their own actor: their event and email keep their own address and browser", async () => {
    const admin = await adminFrom(ADMIN_IP, "Private");
    const member = await newUser({ name: "Mo Member" });
    withUserAgent(member.client, AGENTS.laptop[0]);
    await join(admin, member);
    expect((await member.client.request("DELETE", `/api/communities/${admin.communityId}/members/${member.id}`)).status).toBe(204);
    expect(await eventSeenBy(member, "member_left")).toMatchObject({ ip: member.client.ip, userAgent: AGENTS.laptop[0], browser: AGENTS.laptop[1] });
    expect((await mailTo(member.email, "member_left")).body).toContain(`From: ${member.client.ip} (${AGENTS.laptop[1]})`);
  });

  it("a policy that forbids remembered browsers: the member's event names the admin, never the admin's address or browser; the admin's own event keeps theirs", async () => {
    const admin = await adminFrom(ADMIN_IP, "Private");
    const member = await newUser({ name: "Mo Member" });
    await join(admin, member);
    const { secret } = await enableTOTP(member.client);
    await logInRemembering(new TrustedClient(), member.email, secret);

    await setPolicy(admin.client, admin.communityId, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false });

    const forgotten = await eventSeenBy(member, "trusted_browser_removed");
    expect(forgotten).toMatchObject({
      actor: { id: admin.id, name: admin.name },
      data: { count: 1, reason: "community_policy", communityName: expect.stringMatching(/^Private /) },
    });
    expectNoWhere(forgotten);
    const own = await env.DB.prepare("SELECT ip, user_agent FROM events WHERE user_id = ? AND type = 'policy_changed'").bind(admin.id).first();
    expect(own).toEqual({ ip: ADMIN_IP, user_agent: ADMIN_AGENT });
  });

  it("an event someone else caused, written with their address by an earlier release, is shown without it", async () => {
    const admin = await adminFrom(ADMIN_IP, "Private");
    const member = await newUser({ name: "Mo Member" });
    await env.DB.prepare("INSERT INTO events (id, user_id, type, at, ip, user_agent, actor_id, data) VALUES (?, ?, 'member_removed', ?, ?, ?, ?, ?)")
      .bind(
        crypto.randomUUID(),
        member.id,
        Date.now() + 1000,
        ADMIN_IP,
        ADMIN_AGENT,
        admin.id,
        JSON.stringify({ communityId: admin.communityId, communityName: "Old" }),
      )
      .run();
    const removed = await eventSeenBy(member, "member_removed");
    expect(removed).toMatchObject({ actor: { id: admin.id, name: admin.name } });
    expectNoWhere(removed);
  });
});
