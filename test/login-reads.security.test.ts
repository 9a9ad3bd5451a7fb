import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Client } from "./support/client";
import { communityWithMember, enableTOTP, logIn, newUser, PASSWORD, uniqueEmail } from "./support/fixtures";
import { REQUIRED_NOW, setPolicy } from "./support/policy";
import { guardRows, sessionRow } from "./support/stores";
import { browserWith, logInRemembering, passwordLogin, TrustedClient } from "./support/trusted";

/**
 * The password step decides with what it read beside the user's row, in one
 * statement before the hash (src/auth/store.ts `findLoginUser`): whether
 * every community allows remembered browsers, whether a full login is on
 * record, when a community's policy is due. Each answer is about this user
 * only, across all of their communities, and read from D1 (not the guard).
 */

afterEach(() => {
  vi.useRealTimers();
});

/** A second community, made by its own admin (with 2FA), that `email` joins as a member. */
async function joinSecondCommunity(member: { email: string; client: Client }): Promise<{ admin: Client; cid: string }> {
  const admin = await newUser({ community: `Second ${Math.random().toString(36).slice(2, 8)}` });
  await enableTOTP(admin.client);
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role: "member" });
  expect(invite.status).toBe(201);
  expect((await member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
  return { admin: admin.client, cid: admin.communityId as string };
}

describe("the password step's reads beside the user's row", () => {
  it("a remembered browser of a member of two communities is refused once one of them forbids it in D1, while its guard still remembers the browser", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    const second = await joinSecondCommunity(world.member);
    const { secret } = await enableTOTP(world.member.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, world.member.email, secret);
    const copied = browser.trusted;
    expect(copied).not.toBeNull();
    expect((await passwordLogin(browserWith(copied), world.member.email)).body).toEqual({ status: "authenticated", trustedBrowser: true });

    // The policy change has stored the ban in D1 and not yet reached the member's guard
    // (src/communities/policy-routes.ts writes first, then forgets each member's browsers).
    await env.DB.prepare("UPDATE communities SET allow_trusted_browsers = 0 WHERE id = ?").bind(second.cid).run();
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toHaveLength(1);
    const refused = await passwordLogin(browserWith(copied), world.member.email);
    expect(refused.body.status).toBe("second_factor_required");
    expect(refused.body.trustedBrowser).toBeUndefined();
  });

  it("another account's logins do not count: an account's first full login is not a new browser, its second browser is", async () => {
    // Other accounts of this file have logged in already; this one only signs up.
    await newUser();
    const email = uniqueEmail("first");
    expect((await new Client().json("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Fay First" })).status).toBe(201);
    const first = await logIn(email);
    expect(first.body.status).toBe("authenticated");
    expect((await sessionRow(first.client))?.new_browser).toBe(0);
    const second = await logIn(email);
    expect((await sessionRow(second.client))?.new_browser).toBe(1);
  });

  it("a policy due in one of two communities: a password alone is authenticated 1 ms before the date and enrollment at exactly the date", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    // The member's other community requires nothing: MIN over both is the first one's date.
    await joinSecondCommunity(world.member);
    const policy = await setPolicy(world.admin.client, world.cid, { ...REQUIRED_NOW, graceDays: 1 });
    const due = Date.parse(policy.enforcedFrom as string) + 24 * 60 * 60 * 1000;
    vi.setSystemTime(due - 1);
    expect((await logIn(world.member.email)).body).toEqual({ status: "authenticated" });
    vi.setSystemTime(due);
    expect((await logIn(world.member.email)).body.status).toBe("enrollment_required");
  });
});
