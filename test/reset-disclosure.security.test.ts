import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN_AGENT, ADMIN_BROWSER_EN, ADMIN_BROWSER_FR, adminFrom, join, mailTo } from "./support/actors";
import { addAuthenticatorApp, enableTOTP, newUser, PASSWORD, reauth, recoveryClient, type TestUser, verify } from "./support/fixtures";
import { opsReset } from "./support/ops";

/**
 * A reset made by someone else tells the member who did it and when, not where
 * from (docs/email.md, docs/security.md R10c): the member's email and the
 * member's security event carry neither the admin's (or the operator's) IP
 * address nor their browser. An admin who resets every member of a community
 * would otherwise tell each of them their network location.
 */

const ADMIN_IP = "203.0.113.77";
const OPERATOR_IP = "198.51.100.99";

/** The member's own view of the reset, after logging in with the recovery code. */
async function issuedEventSeenBy(member: TestUser, code: string): Promise<Record<string, unknown>> {
  const client = await recoveryClient(member);
  expect((await verify(client, "recovery_code", code)).status).toBe(200);
  // The Security page opens once a new method is set up.
  await addAuthenticatorApp(client, { reauth: false });
  const page = await client.json("GET", "/api/security");
  expect(page.status).toBe(200);
  const issued = page.body.events.find((e: { type: string }) => e.type === "recovery_code_issued");
  expect(issued).toBeDefined();
  return issued;
}

describe("a reset by someone else shows the member who and when, not the other person's address or browser", () => {
  for (const [lang, acceptLanguage, browser, whenLabel] of [
    ["en", "en", ADMIN_BROWSER_EN, "When: "],
    ["fr", "fr", ADMIN_BROWSER_FR, "Date\u00a0: "],
  ] as const) {
    it(`${lang}: an admin's reset: the member's event and email name the admin and the time, never the admin's IP address or browser`, async () => {
      const admin = await adminFrom(ADMIN_IP, "Quiet");
      const member = await newUser({ name: "Mo Member", acceptLanguage });
      await join(admin, member);
      await enableTOTP(member.client);
      await reauth(admin.client);
      const reset = await admin.client.json("POST", `/api/communities/${admin.communityId}/members/${member.id}/reset-2fa`, { password: PASSWORD });
      expect(reset.status).toBe(200);

      const mail = await mailTo(member.email, "recovery_code_issued");
      expect(mail.body).toContain(JSON.stringify(admin.name));
      expect(mail.body).toContain(whenLabel);
      expect(mail.body).not.toContain(ADMIN_IP);
      expect(mail.body).not.toContain(browser);

      const issued = await issuedEventSeenBy(member, reset.body.recoveryCode);
      expect(issued).toMatchObject({ actor: { id: admin.id, name: admin.name }, at: expect.any(String) });
      expect(issued).not.toHaveProperty("ip");
      expect(issued).not.toHaveProperty("userAgent");
      expect(issued).not.toHaveProperty("browser");

      // The acting admin's own log keeps where they acted from: it is theirs.
      const own = await env.DB.prepare("SELECT ip, user_agent FROM events WHERE user_id = ? AND type = 'member_reset'").bind(admin.id).first();
      expect(own).toEqual({ ip: ADMIN_IP, user_agent: ADMIN_AGENT });
    });
  }

  it("the operator's reset: the member's event and email name the operator, never the operator's address or browser", async () => {
    const member = await newUser({ name: "Mo Member" });
    await enableTOTP(member.client);
    const res = await opsReset(member.email, undefined, OPERATOR_IP);
    expect(res.status).toBe(200);
    const { recoveryCode } = (await res.json()) as { recoveryCode: string };

    const mail = await mailTo(member.email, "recovery_code_issued");
    expect(mail.body).toContain("operator of this service");
    expect(mail.body).not.toContain(OPERATOR_IP);

    const issued = await issuedEventSeenBy(member, recoveryCode);
    expect(issued).not.toHaveProperty("ip");
    expect(issued).not.toHaveProperty("userAgent");
    expect(issued).not.toHaveProperty("browser");
  });
});
