import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { trustedBrowsersAllowed } from "../src/communities/trusted-policy";
import { type Client, expectProblem } from "./support/client";
import { addAuthenticatorApp, communityWithMember, DAY_MS, enableTOTP, logIn, newUser, PASSWORD, reauth } from "./support/fixtures";
import { REQUIRED_NOW, setPolicy, shiftPolicyBack } from "./support/policy";
import { eventTypesOf, outboxOf } from "./support/stores";

/** A community whose admin has 2FA (only such an admin may require it) and a member without it. */
async function requiringWorld(graceDays: number) {
  const world = await communityWithMember();
  await enableTOTP(world.admin.client);
  const policy = await setPolicy(world.admin.client, world.cid, { ...REQUIRED_NOW, graceDays });
  return { ...world, policy };
}

async function me(client: Client) {
  const res = await client.json("GET", "/api/me");
  expect(res.status).toBe(200);
  return res.body;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("GET /api/communities/{cid}", () => {
  it("a member sees the community, their role and the policy; a new community requires nothing", async () => {
    const { member, cid, admin } = await communityWithMember();
    const res = await member.client.json("GET", `/api/communities/${cid}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      community: {
        id: cid,
        name: expect.any(String),
        role: "member",
        policy: { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: true, enforcedFrom: null },
      },
    });
    expect((await admin.client.json("GET", `/api/communities/${cid}`)).body.community.role).toBe("admin");
  });

  it("someone outside the community, or no such community: 404 not_found", async () => {
    const { cid } = await communityWithMember();
    const outsider = await newUser();
    await expectProblem(await outsider.client.request("GET", `/api/communities/${cid}`), 404, "not_found");
    await expectProblem(await outsider.client.request("GET", "/api/communities/nope"), 404, "not_found");
  });
});

describe("PUT /api/communities/{cid}/policy", () => {
  it("enforcedFrom is set when the requirement turns on, kept by changes of the other fields, cleared when it turns off", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    const on = Date.now();
    const first = await setPolicy(world.admin.client, world.cid, { requireTwoFactor: true, graceDays: 7, allowTrustedBrowsers: true });
    expect(first).toEqual({ requireTwoFactor: true, graceDays: 7, allowTrustedBrowsers: true, enforcedFrom: new Date(on).toISOString() });

    // Minutes, not days: the admin's session must outlive the clock's moves.
    vi.setSystemTime(on + 60_000);
    const changed = await setPolicy(world.admin.client, world.cid, { requireTwoFactor: true, graceDays: 3, allowTrustedBrowsers: false });
    expect(changed.enforcedFrom).toBe(new Date(on).toISOString());
    expect(changed).toMatchObject({ graceDays: 3, allowTrustedBrowsers: false });

    const off = await setPolicy(world.admin.client, world.cid, { requireTwoFactor: false, graceDays: 3, allowTrustedBrowsers: false });
    expect(off.enforcedFrom).toBeNull();
    vi.setSystemTime(on + 120_000);
    const again = await setPolicy(world.admin.client, world.cid, { requireTwoFactor: true, graceDays: 3, allowTrustedBrowsers: false });
    expect(again.enforcedFrom).toBe(new Date(on + 120_000).toISOString());
    // Members read what the admin set.
    expect((await world.member.client.json("GET", `/api/communities/${world.cid}`)).body.community.policy).toEqual(again);
  });

  it("bad bodies get 400 invalid_request and change nothing", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    await reauth(world.admin.client);
    for (const body of [
      { requireTwoFactor: true, graceDays: 31, allowTrustedBrowsers: true },
      { requireTwoFactor: true, graceDays: -1, allowTrustedBrowsers: true },
      { requireTwoFactor: true, graceDays: 1.5, allowTrustedBrowsers: true },
      { requireTwoFactor: "yes", graceDays: 1, allowTrustedBrowsers: true },
      { requireTwoFactor: true, graceDays: 1 },
      { requireTwoFactor: true, graceDays: 1, allowTrustedBrowsers: true, enforcedFrom: "2020-01-01T00:00:00.000Z" },
    ]) {
      await expectProblem(await world.admin.client.request("PUT", `/api/communities/${world.cid}/policy`, body), 400, "invalid_request");
    }
    expect((await world.member.client.json("GET", `/api/communities/${world.cid}`)).body.community.policy.requireTwoFactor).toBe(false);
  });

  it("every change is an event in the acting admin's log and an email to every admin, with no name in the subject", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    // A second admin, with a name chosen to look like a sentence of ours.
    const other = await newUser({ name: "URGENT: click here" });
    const invite = await world.admin.client.json("POST", `/api/communities/${world.cid}/invitations`, { email: other.email, role: "admin" });
    await other.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
    await setPolicy(world.admin.client, world.cid, { requireTwoFactor: true, graceDays: 5, allowTrustedBrowsers: false });

    expect(await eventTypesOf(world.admin.id)).toContain("policy_changed");
    for (const id of [world.admin.id, other.id]) {
      await expect.poll(async () => (await outboxOf(id)).filter((m) => m.template === "policy_changed_notice").length, { timeout: 3000 }).toBe(1);
      const mail = (await outboxOf(id)).find((m) => m.template === "policy_changed_notice")!;
      expect(mail.subject).toBe("The two-factor policy of a community you administer changed");
      expect(mail.body).toContain("5 days");
      expect(mail.body).toContain(`Admin, as they typed their name: "Ada Admin"`);
    }
    // Members are not emailed about it: the banner and their next login tell them.
    expect((await outboxOf(world.member.id)).filter((m) => m.template === "policy_changed_notice")).toEqual([]);
  });
});

describe("requiredBy and the enrollment-required login", () => {
  it("grace running: /api/me carries requiredBy (start + grace) and a password login still answers authenticated", async () => {
    const world = await requiringWorld(7);
    const enforced = Date.parse(world.policy.enforcedFrom!);
    const expected = new Date(enforced + 7 * DAY_MS).toISOString();
    expect((await me(world.member.client)).twoFactor).toEqual({ enabled: false, preferred: null, requiredBy: expected });
    const { body } = await logIn(world.member.email);
    expect(body).toEqual({ status: "authenticated" });
    // The admin has 2FA: nothing is owed, no date.
    expect((await me(world.admin.client)).twoFactor.requiredBy).toBeUndefined();
  });

  it("a member who joins after the start counts the grace from their joining", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const admin = await newUser({ community: "Later joiners" });
    await enableTOTP(admin.client);
    await setPolicy(admin.client, admin.communityId!, { ...REQUIRED_NOW, graceDays: 2 });
    vi.setSystemTime(Date.now() + 10 * 60_000);
    const joinedAt = Date.now();
    const late = await newUser();
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: late.email, role: "member" });
    await late.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
    expect((await me(late.client)).twoFactor.requiredBy).toBe(new Date(joinedAt + 2 * DAY_MS).toISOString());
  });

  it("grace over: login answers enrollment_required with an enrollment session that can only add a method; the first method makes it authenticated and shows the backup codes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const world = await requiringWorld(3);
    const requiredBy = Date.parse(world.policy.enforcedFrom!) + 3 * DAY_MS;

    vi.setSystemTime(requiredBy - 1);
    expect((await logIn(world.member.email)).body.status).toBe("authenticated");

    vi.setSystemTime(requiredBy);
    const { client, body } = await logIn(world.member.email);
    expect(body).toEqual({ status: "enrollment_required" });
    const view = await me(client);
    expect(view.stage).toBe("enrollment");
    expect(view.twoFactor.requiredBy).toBe(new Date(requiredBy).toISOString());
    // Everything but enrollment is closed.
    await expectProblem(await client.request("GET", "/api/security"), 403, "enrollment_required");
    await expectProblem(await client.request("GET", `/api/communities/${world.cid}`), 403, "enrollment_required");
    await expectProblem(await client.request("POST", "/api/security/disable", { password: PASSWORD }), 403, "enrollment_required");
    // No password prompt: the enrollment session just gave it.
    const app = await addAuthenticatorApp(client, { reauth: false });
    expect(app.backupCodes).toHaveLength(10);
    expect((await me(client)).stage).toBe("authenticated");
    expect((await client.json("GET", "/api/security")).status).toBe(200);
    expect((await me(client)).twoFactor.requiredBy).toBeUndefined();
  });

  it("sessions already open are not cut when the grace ends", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const world = await requiringWorld(0);
    expect((await logIn(world.member.email)).body.status).toBe("enrollment_required");
    // The member's session from before is still fully logged in.
    expect((await me(world.member.client)).stage).toBe("authenticated");
    expect((await world.member.client.json("GET", "/api/security")).status).toBe(200);
  });

  it("a member of two requiring communities takes the earliest date", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const world = await requiringWorld(10);
    const second = await newUser({ community: "Second" });
    await enableTOTP(second.client);
    const invite = await second.client.json("POST", `/api/communities/${second.communityId}/invitations`, { email: world.member.email, role: "member" });
    await world.member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`);
    vi.setSystemTime(Date.now() + 60_000);
    const policy = await setPolicy(second.client, second.communityId!, { ...REQUIRED_NOW, graceDays: 2 });
    const earliest = Date.parse(policy.enforcedFrom!) + 2 * DAY_MS;
    expect(earliest).toBeLessThan(Date.parse(world.policy.enforcedFrom!) + 10 * DAY_MS);
    expect((await me(world.member.client)).twoFactor.requiredBy).toBe(new Date(earliest).toISOString());
    vi.setSystemTime(earliest);
    expect((await logIn(world.member.email)).body.status).toBe("enrollment_required");
  });

  it("turning the policy off releases overdue members", async () => {
    const world = await requiringWorld(0);
    expect((await logIn(world.member.email)).body.status).toBe("enrollment_required");
    await setPolicy(world.admin.client, world.cid, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: true });
    expect((await logIn(world.member.email)).body).toEqual({ status: "authenticated" });
    expect((await me(world.member.client)).twoFactor.requiredBy).toBeUndefined();
  });

  it("leaving the community releases the member too", async () => {
    const world = await requiringWorld(0);
    expect((await world.member.client.request("DELETE", `/api/communities/${world.cid}/members/${world.member.id}`)).status).toBe(204);
    expect((await logIn(world.member.email)).body.status).toBe("authenticated");
  });
});

describe("allowTrustedBrowsers", () => {
  it("a user may keep trusted browsers only while every community of theirs allows it", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    expect(await trustedBrowsersAllowed(env.DB, world.member.id)).toBe(true);
    await setPolicy(world.admin.client, world.cid, { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false });
    expect(await trustedBrowsersAllowed(env.DB, world.member.id)).toBe(false);
    // Leaving the community that forbids it lifts the ban; a user in no community may.
    expect((await world.member.client.request("DELETE", `/api/communities/${world.cid}/members/${world.member.id}`)).status).toBe(204);
    expect(await trustedBrowsersAllowed(env.DB, world.member.id)).toBe(true);
  });
});

describe("the members list shows each member's standing", () => {
  it("ok with 2FA, grace with the date before it, overdue from it; requiredBy null when ok", async () => {
    const world = await requiringWorld(4);
    const requiredBy = Date.parse(world.policy.enforcedFrom!) + 4 * DAY_MS;
    const standing = async () => {
      const res = await world.admin.client.json("GET", `/api/communities/${world.cid}/members`);
      expect(res.status).toBe(200);
      return Object.fromEntries(res.body.members.map((m: { id: string; policy: string; requiredBy: string | null }) => [m.id, [m.policy, m.requiredBy]]));
    };
    expect(await standing()).toEqual({ [world.admin.id]: ["ok", null], [world.member.id]: ["grace", new Date(requiredBy).toISOString()] });
    // Started (and joined) four days earlier: the deadline has passed.
    await shiftPolicyBack(world.cid, 4 * DAY_MS);
    expect((await standing())[world.member.id]).toEqual(["overdue", new Date(requiredBy - 4 * DAY_MS).toISOString()]);
    await enableTOTP(world.member.client);
    expect((await standing())[world.member.id]).toEqual(["ok", null]);
  });

  it("without a requirement every member is ok", async () => {
    const world = await communityWithMember();
    const res = await world.admin.client.json("GET", `/api/communities/${world.cid}/members`);
    expect(res.body.members.map((m: { policy: string; requiredBy: string | null }) => [m.policy, m.requiredBy])).toEqual([
      ["ok", null],
      ["ok", null],
    ]);
  });
});

describe("turning 2FA off while a community requires it", () => {
  it("is refused with 409 two_factor_required, the methods stay; after leaving the community it works", async () => {
    const world = await requiringWorld(30);
    await enableTOTP(world.member.client);
    await reauth(world.member.client);
    const refused = await expectProblem(await world.member.client.request("POST", "/api/security/disable", { password: PASSWORD }), 409, "two_factor_required");
    expect(refused.detail).toMatch(/community/);
    expect((await world.member.client.json("GET", "/api/security")).body.enabled).toBe(true);
    expect((await env.DB.prepare("SELECT two_factor_enabled FROM users WHERE id = ?").bind(world.member.id).first())?.two_factor_enabled).toBe(1);

    expect((await world.member.client.request("DELETE", `/api/communities/${world.cid}/members/${world.member.id}`)).status).toBe(204);
    const res = await world.member.client.json("POST", "/api/security/disable", { password: PASSWORD });
    expect(res.status).toBe(200);
  });
});
