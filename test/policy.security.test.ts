import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { POLICY_CHANGES_PER_COMMUNITY } from "../src/communities/policy-routes";
import { expectProblem } from "./support/client";
import { communityWithMember, enableTOTP, logIn, newUser, reauth } from "./support/fixtures";
import { REQUIRED_NOW } from "./support/policy";
import { eventTypesOf, guardRows } from "./support/stores";
import { browserWith, logInRemembering, passwordLogin, TrustedClient } from "./support/trusted";

async function storedPolicy(cid: string) {
  return env.DB.prepare("SELECT require_two_factor, grace_days, allow_trusted_browsers, enforced_from FROM communities WHERE id = ?").bind(cid).first();
}

describe("who may change a community's 2FA policy", () => {
  it("a member (not an admin) gets 403 forbidden, even with 2FA and a fresh password; nothing changes", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.member.client);
    await reauth(world.member.client);
    const before = await storedPolicy(world.cid);
    await expectProblem(await world.member.client.request("PUT", `/api/communities/${world.cid}/policy`, REQUIRED_NOW), 403, "forbidden");
    // An invalid body from a member still answers 403 first (membership before validation).
    await expectProblem(await world.member.client.request("PUT", `/api/communities/${world.cid}/policy`, { graceDays: 99 }), 403, "forbidden");
    expect(await storedPolicy(world.cid)).toEqual(before);
    expect(await eventTypesOf(world.member.id)).not.toContain("policy_changed");
  });

  it("an outsider gets 404 not_found, an admin of another community too", async () => {
    const world = await communityWithMember();
    const outsider = await newUser({ community: "Elsewhere" });
    await enableTOTP(outsider.client);
    await reauth(outsider.client);
    await expectProblem(await outsider.client.request("PUT", `/api/communities/${world.cid}/policy`, REQUIRED_NOW), 404, "not_found");
    expect((await storedPolicy(world.cid))?.require_two_factor).toBe(0);
  });

  it("an admin without a fresh password gets 403 reauth_required", async () => {
    // A login alone is not a re-entered password.
    const fresh = await newUser({ community: "Fresh" });
    await expectProblem(await fresh.client.request("PUT", `/api/communities/${fresh.communityId}/policy`, REQUIRED_NOW), 403, "reauth_required");
  });

  it("an admin without 2FA turning the requirement on: 409 two_factor_required, nothing stored, no event", async () => {
    const world = await communityWithMember();
    await reauth(world.admin.client);
    await expectProblem(await world.admin.client.request("PUT", `/api/communities/${world.cid}/policy`, REQUIRED_NOW), 409, "two_factor_required");
    expect(await storedPolicy(world.cid)).toEqual({ require_two_factor: 0, grace_days: 0, allow_trusted_browsers: 1, enforced_from: null });
    expect(await eventTypesOf(world.admin.id)).not.toContain("policy_changed");
    // Changing what does not demand more of others stays open to them.
    const res = await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, {
      ...REQUIRED_NOW,
      requireTwoFactor: false,
      allowTrustedBrowsers: false,
    });
    expect(res.status).toBe(200);
  });

  it("an enrollment session cannot change the policy or leave its stage by any other call", async () => {
    const world = await communityWithMember("admin");
    await enableTOTP(world.admin.client);
    await reauth(world.admin.client);
    expect((await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, REQUIRED_NOW)).status).toBe(200);
    // The co-admin (no 2FA, overdue at once) logs in and lands in enrollment.
    const { client, body } = await logIn(world.member.email);
    expect(body.status).toBe("enrollment_required");
    await expectProblem(
      await client.request("PUT", `/api/communities/${world.cid}/policy`, { ...REQUIRED_NOW, requireTwoFactor: false }),
      403,
      "enrollment_required",
    );
    await expectProblem(await client.request("GET", `/api/communities/${world.cid}/members`), 403, "enrollment_required");
    await expectProblem(await client.request("POST", "/api/security/reauth", { password: "x" }), 403, "enrollment_required");
    expect((await storedPolicy(world.cid))?.require_two_factor).toBe(1);
  });

  it("a remembered browser's cookie replayed after the community forbids remembered browsers: the second step is asked again", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    const { secret } = await enableTOTP(world.member.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, world.member.email, secret);
    const copied = browser.trusted;
    expect(copied).not.toBeNull();
    expect((await passwordLogin(browserWith(copied), world.member.email)).body).toMatchObject({ status: "authenticated", trustedBrowser: true });

    await reauth(world.admin.client);
    const res = await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, {
      requireTwoFactor: false,
      graceDays: 0,
      allowTrustedBrowsers: false,
    });
    expect(res.status).toBe(200);
    // Forgotten in the member's guard, not only refused at login.
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    expect((await passwordLogin(browserWith(copied), world.member.email)).body.status).toBe("second_factor_required");
    // Allowing them again does not bring the old cookie back.
    await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: true });
    expect((await passwordLogin(browserWith(copied), world.member.email)).body.status).toBe("second_factor_required");
  });
});

describe("policy changes are bounded per community (docs/security.md R11x)", () => {
  // Every change emails every admin of the community and, when it forbids remembered browsers, calls every member's
  // guard. With no bound an admin (one password re-entered, ten minutes) had the service email each co-admin once
  // per request, as fast as they could send them, and wake every member's guard every other request.
  const { capacity } = POLICY_CHANGES_PER_COMMUNITY;

  it("an admin toggling the policy again and again: the bucket's changes, then 429 with Retry-After; each co-admin is emailed that many times, not once per request, and a refused change changes nothing", async () => {
    const world = await communityWithMember("admin");
    const put = (allowTrustedBrowsers: boolean) =>
      world.admin.client.request("PUT", `/api/communities/${world.cid}/policy`, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers });
    const statuses: number[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < capacity + 20; i++) {
      const res = await put(i % 2 === 1);
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    expect(statuses.slice(0, capacity).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(capacity).every((s) => s === 429)).toBe(true);
    await expectProblem(refused as Response, 429, "too_many_attempts");
    expect(Number((refused as Response).headers.get("Retry-After"))).toBeGreaterThan(0);
    // The last change let through (an odd index: the capacity is even) allowed remembered browsers; the refused ones
    // after it forbade them half the time.
    expect(capacity % 2).toBe(0);
    expect((await storedPolicy(world.cid))?.allow_trusted_browsers).toBe(1);
    const notices = await env.DB.prepare("SELECT count(*) AS n FROM outbox WHERE recipient = ? AND template = 'policy_changed_notice'")
      .bind(world.member.email)
      .first<{ n: number }>();
    expect(notices?.n).toBe(capacity);
  });

  it("another community's admin is not slowed by it; a change refused for the admin's missing 2FA spends nothing", async () => {
    const world = await communityWithMember("admin");
    for (let i = 0; i < capacity; i++)
      expect(
        (
          await world.admin.client.request("PUT", `/api/communities/${world.cid}/policy`, {
            requireTwoFactor: false,
            graceDays: 0,
            allowTrustedBrowsers: i % 2 === 0,
          })
        ).status,
      ).toBe(200);
    const other = await newUser({ community: "Elsewhere" });
    await reauth(other.client);
    for (let i = 0; i < 11; i++)
      await expectProblem(await other.client.request("PUT", `/api/communities/${other.communityId}/policy`, REQUIRED_NOW), 409, "two_factor_required");
    expect(
      (await other.client.request("PUT", `/api/communities/${other.communityId}/policy`, { requireTwoFactor: false, graceDays: 3, allowTrustedBrowsers: true }))
        .status,
    ).toBe(200);
  });
});
