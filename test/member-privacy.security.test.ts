import { describe, expect, it } from "vitest";
import { addAuthenticatorApp, newUser, recoveryClient, recoveryLogin, resetMember, resetWorld, type TestUser, verify } from "./support/fixtures";

/**
 * What a community's admin learns about a member is what the member's joining
 * consented to (docs/api.md "Community administration"): the members list, and
 * the resets of the member while a member. Nothing from before they joined,
 * from another community or from the operator (docs/security.md R12i).
 */

/** A member reset in one community who finishes the recovery: a new app, a full session. */
async function recoveredMember(): Promise<TestUser> {
  const { member, code, client } = await recoveryLogin();
  expect((await verify(client, "recovery_code", code)).body).toEqual({ status: "enrollment_required" });
  await addAuthenticatorApp(client, { reauth: false });
  return { ...member, client };
}

async function invite(admin: TestUser & { communityId: string }, who: TestUser): Promise<void> {
  const sent = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: who.email, role: "member" });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  const accepted = await who.client.json("POST", `/api/invitations/${sent.body.invitation.id}/accept`);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
}

async function resetEventsOf(admin: TestUser & { communityId: string }, memberId: string): Promise<{ type: string }[]> {
  const res = await admin.client.json("GET", `/api/communities/${admin.communityId}/events`);
  expect(res.status).toBe(200);
  return res.body.events.filter((e: { member: { id: string } }) => e.member.id === memberId);
}

describe("an admin's view of a member's resets starts when the member joined (R12i)", () => {
  it("a reset made in another community before the member joined is not shown to the new community's admins", async () => {
    const member = await recoveredMember();
    // The member's own page keeps the reset: it is theirs.
    const own = (await member.client.json("GET", "/api/security")).body.events.map((e: { type: string }) => e.type);
    expect(own).toEqual(expect.arrayContaining(["recovery_code_issued", "recovery_code_used"]));
    const admin = (await newUser({ community: "Later Club", name: "Newer Admin" })) as TestUser & { communityId: string };
    await invite(admin, member);
    expect(await resetEventsOf(admin, member.id)).toEqual([]);
  });

  it("a member who left and came back shows nothing from the time they were away", async () => {
    // The member belongs to two communities: B, whose admin resets them, and A, which they leave and rejoin.
    const b = await resetWorld();
    const a = (await newUser({ community: "Old Club", name: "Club Admin" })) as TestUser & { communityId: string };
    await invite(a, b.member);
    const left = await b.member.client.request("DELETE", `/api/communities/${a.communityId}/members/${b.member.id}`);
    expect(left.status).toBe(204);
    // Away from A, B's admin resets the member, who recovers with the code and a new app.
    const { recoveryCode } = await resetMember(b);
    const client = await recoveryClient(b.member);
    expect((await verify(client, "recovery_code", recoveryCode)).body).toEqual({ status: "enrollment_required" });
    await addAuthenticatorApp(client, { reauth: false });
    // B's admin follows the reset, as the contract says.
    expect((await resetEventsOf({ ...b.admin }, b.member.id)).map((e) => e.type)).toEqual(["recovery_code_used", "recovery_code_issued"]);
    await invite(a, { ...b.member, client });
    expect(await resetEventsOf(a, b.member.id)).toEqual([]);
  });
});
