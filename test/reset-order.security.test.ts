import { describe, expect, it } from "vitest";
import type { Client } from "./support/client";
import {
  addAuthenticatorApp,
  communityWithMember,
  enableTOTP,
  newUser,
  PASSWORD,
  type ResetWorld,
  reauth,
  recoveryClient,
  resetPath,
  resetWorld,
  type TestUser,
  verify,
} from "./support/fixtures";
import { callerAt, guard, guardRows, sessionCallerAt } from "./support/stores";

/**
 * The order of admin resets (docs/security.md R12m): of two admins resetting each other at once only the reset
 * that began first lands (test/bursts.security.test.ts). What that ordering remembers must not refuse a reset
 * that comes after the first one landed, from a session that reset did not end.
 */
describe("admin resets one after the other (R12y)", () => {
  it("an admin reset by a co-admin, back in with the recovery code and a new app, may reset that co-admin at once", async () => {
    const { admin, member: coAdmin } = await communityWithMember("admin");
    await enableTOTP(admin.client);
    await enableTOTP(coAdmin.client);
    const first = await admin.client.json("POST", resetPath({ admin, member: coAdmin, cid: admin.communityId }), { password: PASSWORD });
    expect(first.status, JSON.stringify(first.body)).toBe(200);

    // The co-admin comes back as the contract describes: recovery code, a new app, the password again.
    const back: Client = await recoveryClient(coAdmin);
    expect((await verify(back, "recovery_code", first.body.recoveryCode)).body).toEqual({ status: "enrollment_required" });
    await addAuthenticatorApp(back, { reauth: false });
    await reauth(back);

    // A session that began after the first reset landed: nothing ended it, so its reset lands (docs/api.md reset-2fa: 200).
    const second = await back.json("POST", `/api/communities/${admin.communityId}/members/${admin.id}/reset-2fa`, { password: PASSWORD });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(typeof second.body.recoveryCode).toBe("string");
  });
});

describe("a reset that reaches the member's guard late (R12z)", () => {
  it("is refused by the guard's own clock, after the member's record of an earlier start has gone", async () => {
    const { admin, member: coAdmin } = await communityWithMember("admin");
    await enableTOTP(admin.client);
    await enableTOTP(coAdmin.client);
    const began = Date.now() - 3 * 60_000;
    // The co-admin began resetting the admin first, three minutes ago; a later begin of theirs (another member) has
    // since deleted that record, kept 2 minutes.
    expect(await guard(coAdmin.id).beginAdminReset(sessionCallerAt(coAdmin, began - 1), admin.id)).toMatchObject({ ok: true });
    expect(await guard(coAdmin.id).beginAdminReset(sessionCallerAt(coAdmin, Date.now()), "someone-else")).toMatchObject({ ok: true });
    // The admin's reset, begun a moment after the co-admin's and held up on its way: the route stamps the member's
    // caller in the same instant as the start (src/communities/admin-reset.ts), so only the guard's clock sees it late.
    const acting = { id: admin.id, name: admin.name, stage: "authenticated" as const, communityId: admin.communityId, beganAt: began };
    expect(await guard(coAdmin.id).adminReset(callerAt(coAdmin, began), acting)).toEqual({ ok: false, reason: "admin_reset_first" });
    // Nothing of the co-admin's was touched.
    expect((await coAdmin.client.json("GET", "/api/me")).status).toBe(200);
  });
});

/**
 * A reset and the end of a membership at the same moment (docs/security.md R13m). The route reads the memberships in
 * D1, then the member's guard makes the reset: the steps are called here in the order of the race, the leave or
 * removal (through the API) landing after the route's reads and before the member's guard.
 */
describe("a reset racing the end of a membership (R13m)", () => {
  /** The route's own steps once its D1 reads have passed: the admin's begin, then the member's guard. */
  async function resetAfterChecks(world: ResetWorld, admin: TestUser = world.admin, begin?: { at: number; landed: number[] }) {
    const acting = { id: admin.id, name: admin.name, stage: "authenticated" as const, communityId: world.cid, beganAt: begin?.at, landed: begin?.landed };
    return guard(world.member.id).adminReset(callerAt(world.member, Date.now()), acting);
  }
  async function begin(world: ResetWorld, admin: TestUser = world.admin) {
    const begun = await guard(admin.id).beginAdminReset(sessionCallerAt(admin, Date.now()), world.member.id, world.cid);
    expect(begun).toMatchObject({ ok: true });
    return begun as { ok: true; at: number; landed: number[] };
  }
  const left = (world: ResetWorld, by: Client, uid: string) => by.json("DELETE", `/api/communities/${world.cid}/members/${uid}`);

  for (const how of ["leaves", "is removed"] as const) {
    it(`a member who ${how} after the route's checks is not reset: 404 as for any non-member, nothing changed`, async () => {
      const world = await resetWorld();
      const begun = await begin(world);
      expect((await left(world, how === "leaves" ? world.member.client : world.admin.client, world.member.id)).status).toBe(204);
      expect(await resetAfterChecks(world, world.admin, begun)).toEqual({ ok: false, reason: "not_member" });
      // The member's 2FA and session are untouched.
      expect((await world.member.client.json("GET", "/api/me")).body.twoFactor.enabled).toBe(true);
      expect(await guardRows(world.member.id, "SELECT id FROM recovery")).toEqual([]);
    });
  }

  it("an admin removed after their reset began does not reset: the member's guard refuses it", async () => {
    const world = await resetWorld();
    const coAdmin = await joined(world, "admin");
    const begun = await begin(world);
    expect((await left(world, coAdmin.client, world.admin.id)).status).toBe(204);
    expect(await resetAfterChecks(world, world.admin, begun)).toEqual({ ok: false, reason: "not_member" });
    expect((await world.member.client.json("GET", "/api/me")).body.twoFactor.enabled).toBe(true);
    // A reset the removed admin begins afterwards is refused in their own guard.
    expect(await guard(world.admin.id).beginAdminReset(sessionCallerAt(world.admin, Date.now()), world.member.id, world.cid)).toEqual({
      ok: false,
      reason: "not_member",
    });
  });

  it("a member who left and joined again is reset as the contract says (200)", async () => {
    const world = await resetWorld();
    expect((await left(world, world.member.client, world.member.id)).status).toBe(204);
    const invite = await world.admin.client.json("POST", `/api/communities/${world.cid}/invitations`, { email: world.member.email, role: "member" });
    expect((await world.member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
    await reauth(world.admin.client);
    const res = await world.admin.client.json("POST", resetPath(world), { password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
});

/** Another user who joins the world's community by invitation, with the given role. */
async function joined(world: ResetWorld, role: "admin" | "member"): Promise<TestUser> {
  const user = await newUser({ name: "Cy Co-admin" });
  const invite = await world.admin.client.json("POST", `/api/communities/${world.cid}/invitations`, { email: user.email, role });
  expect((await user.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
  await reauth(user.client);
  return user;
}
