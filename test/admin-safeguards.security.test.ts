import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { enableTOTP, newUser, PASSWORD, reauth, type TestUser } from "./support/fixtures";
import { eventTypesOf, guardSnapshot } from "./support/stores";

/**
 * docs/api.md "Community policy, membership and safeguards": a captured or
 * rogue admin account must not reset every member with a password alone, and
 * members must be able to leave. An admin without 2FA gets 403
 * two_factor_required from reset-2fa; at most 10 resets per community per 24
 * hours (429); resetting an admin also emails every other admin; DELETE
 * /api/communities/{cid}/members/{uid} lets an admin remove a member or a
 * member leave, except the last admin (409 last_admin), and afterwards the
 * community's admins neither list nor reset that user.
 */

type Admin = TestUser & { communityId: string };

async function join(admin: Admin, who: TestUser, role: "admin" | "member"): Promise<void> {
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: who.email, role });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  expect((await who.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
}

/** An admin (2FA on unless told) with a fresh re-entered password, and members with 2FA on. */
async function community(opts: { adminTwoFactor?: boolean; members?: number; admins?: number } = {}) {
  const admin = (await newUser({ community: `Safe ${Math.random().toString(36).slice(2, 8)}`, name: "Ada Admin" })) as Admin;
  if (opts.adminTwoFactor ?? true) await enableTOTP(admin.client);
  const members: TestUser[] = [];
  for (let i = 0; i < (opts.members ?? 1); i++) {
    const m = await newUser({ name: `Member ${i}` });
    await join(admin, m, "member");
    await enableTOTP(m.client);
    members.push(m);
  }
  const admins: TestUser[] = [];
  for (let i = 0; i < (opts.admins ?? 0); i++) {
    const a = await newUser({ name: `Co-admin ${i}` });
    await join(admin, a, "admin");
    await enableTOTP(a.client);
    admins.push(a);
  }
  await reauth(admin.client);
  return { admin, members, admins, cid: admin.communityId };
}

const resetPath = (cid: string, uid: string) => `/api/communities/${cid}/members/${uid}/reset-2fa`;
const reset = (client: TestUser["client"], cid: string, uid: string, password = PASSWORD) => client.request("POST", resetPath(cid, uid), { password });

async function memberIds(admin: Admin): Promise<string[]> {
  const res = await admin.client.json("GET", `/api/communities/${admin.communityId}/members`);
  return res.body.members.map((m: { id: string }) => m.id);
}

describe("reset-2fa needs an admin who has 2FA", () => {
  it("an admin without 2FA gets 403 two_factor_required, with the right password or a wrong one, and the member is untouched", async () => {
    const { admin, members, cid } = await community({ adminTwoFactor: false });
    const member = members[0] as TestUser;
    const before = await guardSnapshot(member.id);
    await expectProblem(await reset(admin.client, cid, member.id), 403, "two_factor_required");
    await expectProblem(await reset(admin.client, cid, member.id, "not the admin's password"), 403, "two_factor_required");
    expect(await guardSnapshot(member.id)).toEqual(before);
    expect((await member.client.json("GET", "/api/me")).body.twoFactor.enabled).toBe(true);
    // Validation comes first in the contract's order: an empty body is 400, not 403.
    await expectProblem(await admin.client.request("POST", resetPath(cid, member.id), {}), 400, "invalid_request");
    // Once the admin turns 2FA on, the same reset goes through.
    await enableTOTP(admin.client);
    expect((await reset(admin.client, cid, member.id)).status).toBe(200);
  });
});

describe("at most 10 resets per community per 24 hours", () => {
  const throttle = (cid: string) => env.THROTTLE.get(env.THROTTLE.idFromName(`resets-community:${cid}`));

  it("the 11th reset gets 429 with Retry-After and changes nothing; a refused reset does not count; a day later resets work again", async () => {
    const { admin, members, cid } = await community({ members: 2 });
    const [a, b] = members as [TestUser, TestUser];
    // Wrong passwords do not spend the community's resets.
    for (let i = 0; i < 3; i++) await expectProblem(await reset(admin.client, cid, a.id, "wrong password, wrong"), 401, "invalid_credentials");
    for (let i = 0; i < 10; i++) expect((await reset(admin.client, cid, i % 2 ? a.id : b.id)).status, `reset ${i + 1}`).toBe(200);
    const before = await guardSnapshot(b.id);
    const refused = await reset(admin.client, cid, b.id);
    await expectProblem(refused, 429, "too_many_attempts");
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(23 * 3600);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    expect(await guardSnapshot(b.id)).toEqual(before);
    // 429 comes before two_factor_required in the contract's order.
    const other = await newUser();
    await join(admin, other, "admin");
    await expectProblem(await reset(other.client, cid, b.id), 429, "too_many_attempts");
    // A day later.
    await runInDurableObject(throttle(cid), async (_instance, state) => {
      state.storage.kv.put(
        "window",
        (state.storage.kv.get<number[]>("window") ?? []).map((t) => t - 24 * 60 * 60_000),
      );
    });
    expect((await reset(admin.client, cid, b.id)).status).toBe(200);
  });

  it("12 resets at once from two admins: exactly 10 go through", async () => {
    const { admin, members, admins, cid } = await community({ members: 3, admins: 1 });
    const second = admins[0] as TestUser;
    await reauth(second.client);
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => reset(i % 2 ? second.client : admin.client, cid, (members[i % 3] as TestUser).id)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
  });
});

describe("resetting an admin tells every other admin", () => {
  it("the reset admin gets the reset email; every other admin, the acting one included, gets a notice; plain members get nothing", async () => {
    const { admin, members, admins, cid } = await community({ members: 1, admins: 2 });
    const [target, bystander] = admins as [TestUser, TestUser];
    const member = members[0] as TestUser;
    const mailsOf = async (email: string) =>
      (
        await env.DB.prepare("SELECT template, subject, body FROM outbox WHERE recipient = ?")
          .bind(email)
          .all<{ template: string; subject: string; body: string }>()
      ).results;
    expect((await reset(admin.client, cid, target.id)).status).toBe(200);
    expect((await mailsOf(target.email)).map((m) => m.template)).toContain("recovery_code_issued");
    for (const who of [bystander, admin]) {
      const notices = (await mailsOf(who.email)).filter((m) => m.template === "admin_reset_notice");
      expect(notices, who.name).toHaveLength(1);
      const [notice] = notices;
      // Names someone typed stay out of the subject and are quoted in the body.
      expect(notice?.subject).toBe("An admin of your community had their two-factor authentication reset");
      expect(notice?.body).toContain(`Admin who reset it, as they typed their name: ${JSON.stringify(admin.name)}`);
      expect(notice?.body).toContain(`Admin whose two-factor authentication was reset, as they typed their name: ${JSON.stringify(target.name)}`);
      expect(notice?.body).toContain(target.email);
    }
    expect((await mailsOf(member.email)).filter((m) => m.template === "admin_reset_notice")).toEqual([]);
    // Resetting a plain member tells no admin.
    expect((await reset(admin.client, cid, member.id)).status).toBe(200);
    expect((await mailsOf(bystander.email)).filter((m) => m.template === "admin_reset_notice")).toHaveLength(1);
  });
});

describe("resetting an admin of another community tells that community's admins (docs/security.md R11n)", () => {
  it("an admin of one community who resets a member that administers another: every admin of the other community hears of it, naming the resetting admin", async () => {
    // The attacker makes a community of their own and has an admin of another join it as a plain member;
    // a reset makes that account theirs to take over with its password, and with it the other community.
    const { admin: attacker, cid } = await community({ members: 0 });
    const victimCommunity = await community({ members: 0, admins: 2 });
    const [target, bystander] = victimCommunity.admins as [TestUser, TestUser];
    await join(attacker, target, "member");
    const noticesTo = async (email: string) =>
      (
        await env.DB.prepare("SELECT subject, body FROM outbox WHERE recipient = ? AND template = 'admin_reset_notice'")
          .bind(email)
          .all<{ subject: string; body: string }>()
      ).results;

    expect((await reset(attacker.client, cid, target.id)).status).toBe(200);

    for (const who of [victimCommunity.admin, bystander]) {
      const notices = await noticesTo(who.email);
      expect(notices, who.name).toHaveLength(1);
      const [notice] = notices;
      expect(notice?.subject).toBe("An admin of your community had their two-factor authentication reset");
      expect(notice?.body).toContain("An admin of another community, which the reset admin also belongs to, reset the two-factor authentication of an admin");
      expect(notice?.body).toContain(`Admin who reset it, as they typed their name: ${JSON.stringify(attacker.name)}`);
      expect(notice?.body).toContain(`Admin whose two-factor authentication was reset, as they typed their name: ${JSON.stringify(target.name)}`);
      expect(notice?.body).toContain(target.email);
    }
    // The target is no admin where the reset was made: its admins, the acting one included, get no notice about an admin.
    expect(await noticesTo(attacker.email)).toEqual([]);
    expect(await noticesTo(target.email)).toEqual([]);
  });
});

describe("DELETE /api/communities/{cid}/members/{uid}", () => {
  const remove = (client: TestUser["client"], cid: string, uid: string) => client.request("DELETE", `/api/communities/${cid}/members/${uid}`);

  it("a member leaves: 204, member_left in their log, and the admins neither list nor reset them", async () => {
    const { admin, members, cid } = await community();
    const member = members[0] as TestUser;
    const left = await remove(member.client, cid, member.id);
    expect(left.status).toBe(204);
    expect(await memberIds(admin)).not.toContain(member.id);
    const before = await guardSnapshot(member.id);
    await expectProblem(await reset(admin.client, cid, member.id), 404, "not_found");
    expect(await guardSnapshot(member.id)).toEqual(before);
    expect((await member.client.json("GET", "/api/me")).body.communities).toEqual([]);
    expect(await eventTypesOf(member.id)).toContain("member_left");
    // Leaving again: no longer a member of anything there.
    await expectProblem(await remove(member.client, cid, member.id), 404, "not_found");
  });

  it("an admin removes a member: 204, member_removed with the admin as actor, and an email that names no one in its subject", async () => {
    const { admin, members, cid } = await community();
    const member = members[0] as TestUser;
    expect((await remove(admin.client, cid, member.id)).status).toBe(204);
    expect(await memberIds(admin)).not.toContain(member.id);
    await expectProblem(await reset(admin.client, cid, member.id), 404, "not_found");
    const event = await env.DB.prepare("SELECT actor_id, data FROM events WHERE user_id = ? AND type = 'member_removed'")
      .bind(member.id)
      .first<{ actor_id: string; data: string }>();
    expect(event?.actor_id).toBe(admin.id);
    expect(JSON.parse(event?.data ?? "{}")).toMatchObject({ communityId: cid });
    const mail = await env.DB.prepare("SELECT subject, body FROM outbox WHERE recipient = ? AND template = 'member_removed'")
      .bind(member.email)
      .first<{ subject: string; body: string }>();
    expect(mail?.subject).toBe("You were removed from a community");
    expect(mail?.body).toContain(`Admin, as they typed their name: ${JSON.stringify(admin.name)}`);
  });

  it("an admin removes another admin; the last admin cannot leave (409 last_admin) and stays", async () => {
    const { admin, admins, cid } = await community({ members: 0, admins: 1 });
    const co = admins[0] as TestUser;
    expect((await remove(admin.client, cid, co.id)).status).toBe(204);
    await expectProblem(await remove(admin.client, cid, admin.id), 409, "last_admin");
    expect(await memberIds(admin)).toEqual([admin.id]);
  });

  it("the two last admins leaving at the same time: exactly one leaves", async () => {
    const { admin, admins, cid } = await community({ members: 0, admins: 1 });
    const co = admins[0] as TestUser;
    const [a, b] = await Promise.all([remove(admin.client, cid, admin.id), remove(co.client, cid, co.id)]);
    expect([a.status, b.status].sort()).toEqual([204, 409]);
    const { results } = await env.DB.prepare("SELECT role FROM memberships WHERE community_id = ?").bind(cid).all<{ role: string }>();
    expect(results).toEqual([{ role: "admin" }]);
  });

  it("a member removing someone else: 403; an outsider: 404; a non-member uid: 404; no session: 401; nothing changes", async () => {
    const { admin, members, cid } = await community({ members: 2 });
    const [m1, m2] = members as [TestUser, TestUser];
    const outsider = await newUser();
    await expectProblem(await remove(m1.client, cid, m2.id), 403, "forbidden");
    await expectProblem(await remove(m1.client, cid, admin.id), 403, "forbidden");
    await expectProblem(await remove(outsider.client, cid, m1.id), 404, "not_found");
    await expectProblem(await remove(outsider.client, cid, outsider.id), 404, "not_found");
    await expectProblem(await remove(admin.client, cid, outsider.id), 404, "not_found");
    await expectProblem(await remove(admin.client, "no-such-community", m1.id), 404, "not_found");
    const anonymous = new Client();
    await expectProblem(await remove(anonymous, cid, m1.id), 401, "unauthenticated");
    expect((await memberIds(admin)).sort()).toEqual([admin.id, m1.id, m2.id].sort());
  });

  it("a removed admin's pending invitations die with their rights: the invitee cannot join as admin and remove the others", async () => {
    const { admin, admins, cid } = await community({ members: 0, admins: 1 });
    const rogue = admins[0] as TestUser;
    // Before being removed, the rogue admin invites an accomplice (a second account of theirs) as admin.
    const accomplice = await newUser({ name: "Accomplice" });
    const invite = await rogue.client.json("POST", `/api/communities/${cid}/invitations`, { email: accomplice.email, role: "admin" });
    expect(invite.status).toBe(201);
    expect((await remove(admin.client, cid, rogue.id)).status).toBe(204);
    // The invitation no longer speaks for the community: not listed, not offered, not accepted.
    expect((await admin.client.json("GET", `/api/communities/${cid}/invitations`)).body.invitations).toEqual([]);
    expect((await accomplice.client.json("GET", "/api/invitations")).body.invitations).toEqual([]);
    await expectProblem(await accomplice.client.request("POST", `/api/invitations/${invite.body.invitation.id}/accept`), 404, "not_found");
    expect(await memberIds(admin)).toEqual([admin.id]);
    await expectProblem(await remove(accomplice.client, cid, admin.id), 404, "not_found");
    // The remaining admin's own invitations are untouched, and the rogue's removal did not spend them.
    const own = await newUser();
    await join(admin, own, "member");
    expect((await memberIds(admin)).sort()).toEqual([admin.id, own.id].sort());
  });

  it("an invitation written by an admin who is no longer one (made before this rule, or racing the removal) is neither offered nor accepted", async () => {
    const { admin, admins, cid } = await community({ members: 0, admins: 1 });
    const former = admins[0] as TestUser;
    const invitee = await newUser();
    expect((await remove(admin.client, cid, former.id)).status).toBe(204);
    // As if it had been written after the removal: the inviter is no admin of the community now.
    const id = `stale-${Math.random().toString(36).slice(2, 10)}`;
    const now = Date.now();
    await env.DB.prepare("INSERT INTO invitations (id, community_id, email, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, 'admin', ?, ?, ?)")
      .bind(id, cid, invitee.email, former.id, now, now + 7 * 24 * 60 * 60_000)
      .run();
    // No list offers what the claim would refuse: not the invitee's, not the admins' pending one.
    expect((await invitee.client.json("GET", "/api/invitations")).body.invitations).toEqual([]);
    expect((await admin.client.json("GET", `/api/communities/${cid}/invitations`)).body.invitations).toEqual([]);
    await expectProblem(await invitee.client.request("POST", `/api/invitations/${id}/accept`), 404, "not_found");
    expect(await memberIds(admin)).toEqual([admin.id]);
    expect(await eventTypesOf(invitee.id)).not.toContain("invitation_accepted");
  });

  it("the migration for stale invitations deletes the pending ones of former admins and keeps the rest", async () => {
    const { admin, admins, cid } = await community({ members: 0, admins: 1 });
    const former = admins[0] as TestUser;
    const live = await admin.client.json("POST", `/api/communities/${cid}/invitations`, { email: (await newUser()).email, role: "member" });
    expect(live.status).toBe(201);
    const accepted = await newUser();
    await join(admin, accepted, "member");
    expect((await remove(admin.client, cid, former.id)).status).toBe(204);
    // What the rule's predecessor left behind: a pending invitation of an admin removed since.
    const stale = `stale-${Math.random().toString(36).slice(2, 10)}`;
    const now = Date.now();
    await env.DB.prepare("INSERT INTO invitations (id, community_id, email, role, invited_by, created_at, expires_at) VALUES (?, ?, ?, 'admin', ?, ?, ?)")
      .bind(stale, cid, (await newUser()).email, former.id, now, now + 7 * 24 * 60 * 60_000)
      .run();
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.endsWith("_stale_invitations.sql"));
    expect(migration, "migrations/*_stale_invitations.sql").toBeDefined();
    for (const query of migration?.queries ?? []) await env.DB.prepare(query).run();
    const { results } = await env.DB.prepare("SELECT id, accepted_by FROM invitations WHERE community_id = ?")
      .bind(cid)
      .all<{ id: string; accepted_by: string | null }>();
    const ids = results.map((r) => r.id);
    expect(ids).not.toContain(stale);
    expect(ids).toContain(live.body.invitation.id);
    // Accepted ones are the community's history, whoever sent them: the former admin's own acceptance included.
    expect(results.map((r) => r.accepted_by)).toEqual(expect.arrayContaining([accepted.id, former.id]));
  });

  it("a removed member can come back only by accepting a new invitation", async () => {
    const { admin, members, cid } = await community();
    const member = members[0] as TestUser;
    expect((await remove(admin.client, cid, member.id)).status).toBe(204);
    await join(admin, member, "member");
    expect(await memberIds(admin)).toContain(member.id);
    expect((await reset(admin.client, cid, member.id)).status).toBe(200);
  });
});
