import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { acceptInvitation } from "../src/invitations/store";
import { Client, expectProblem } from "./support/client";
import { communityWithMember, enableTOTP, newUser, PASSWORD, proveEmail, uniqueEmail } from "./support/fixtures";

const DAY = 24 * 60 * 60 * 1000;

async function invite(admin: { client: Client }, cid: string, email: string, role: "admin" | "member" = "member") {
  return admin.client.json("POST", `/api/communities/${cid}/invitations`, { email, role });
}

describe("GET /api/communities/{cid}/members", () => {
  it("admins get every member in the contract's shape", async () => {
    const { admin, member, cid } = await communityWithMember();
    await enableTOTP(member.client);
    const res = await admin.client.json("GET", `/api/communities/${cid}/members`);
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(res.body.members.map((m: { id: string }) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual([admin.id, member.id].sort());
    expect(byId[admin.id]).toEqual({
      id: admin.id,
      email: admin.email,
      name: admin.name,
      role: "admin",
      twoFactor: { enabled: false, methods: [] },
      recoveryCodeExpiresAt: null,
      policy: "ok",
      requiredBy: null,
    });
    expect(byId[member.id]).toEqual({
      id: member.id,
      email: member.email,
      name: member.name,
      role: "member",
      twoFactor: { enabled: true, methods: ["totp"] },
      recoveryCodeExpiresAt: null,
      policy: "ok",
      requiredBy: null,
    });
  });

  it("a member who is not an admin: 403 forbidden; an outsider or an unknown community: 404 not_found", async () => {
    const { member, cid } = await communityWithMember();
    await expectProblem(await member.client.request("GET", `/api/communities/${cid}/members`), 403, "forbidden");
    const outsider = await newUser();
    await expectProblem(await outsider.client.request("GET", `/api/communities/${cid}/members`), 404, "not_found");
    await expectProblem(await outsider.client.request("GET", "/api/communities/no-such-community/members"), 404, "not_found");
    // An admin of another community is an outsider here.
    const otherAdmin = await newUser({ community: "Other" });
    await expectProblem(await otherAdmin.client.request("GET", `/api/communities/${cid}/members`), 404, "not_found");
  });

  it("no session: 401", async () => {
    const { cid } = await communityWithMember();
    await expectProblem(await new Client().request("GET", `/api/communities/${cid}/members`), 401, "unauthenticated");
  });
});

describe("POST /api/communities/{cid}/invitations", () => {
  it("201 {invitation: {id, email, role, expiresAt}}, valid 7 days, email normalised", async () => {
    const admin = await newUser({ community: "Invites" });
    const email = uniqueEmail("invitee");
    const before = Date.now();
    const res = await invite(admin, admin.communityId!, `  ${email.toUpperCase()} `);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ invitation: { id: expect.any(String), email, role: "member", expiresAt: expect.any(String) } });
    const expiresAt = Date.parse(res.body.invitation.expiresAt);
    expect(res.body.invitation.expiresAt).toBe(new Date(expiresAt).toISOString());
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7 * DAY);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 7 * DAY);
  });

  it("the same answer whether or not an account has that email, and an email either way", async () => {
    const admin = await newUser({ community: "No enumeration" });
    const existing = await newUser();
    const nobody = uniqueEmail("nobody");
    const a = await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: existing.email, role: "member" });
    const b = await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: nobody, role: "member" });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    const [ja, jb] = [(await a.json()) as any, (await b.json()) as any];
    // Only the id, the email itself and the clock differ.
    const strip = (j: any) => ({ ...j.invitation, id: "", email: "", expiresAt: "" });
    expect(strip(ja)).toEqual(strip(jb));
    expect([...a.headers.keys()].sort()).toEqual([...b.headers.keys()].sort());
    for (const email of [existing.email, nobody]) {
      const mail = await env.DB.prepare("SELECT template, subject, body FROM outbox WHERE recipient = ? AND template = 'invitation'").bind(email).all<{
        template: string;
        subject: string;
        body: string;
      }>();
      expect(mail.results).toHaveLength(1);
      expect(mail.results[0]!.template).toBe("invitation");
      // The community's name is in the body only: anyone can name a community, so no subject carries it.
      expect(mail.results[0]!.body).toContain('"No enumeration"');
    }
  });

  it("records the invitation email in the outbox and an invitation_sent event for the admin", async () => {
    const admin = await newUser({ community: "Outbox" });
    const email = uniqueEmail("mailed");
    const res = await invite(admin, admin.communityId!, email, "admin");
    expect(res.status).toBe(201);
    const mail = await env.DB.prepare("SELECT user_id, template, subject, body FROM outbox WHERE recipient = ?").bind(email).first<{
      template: string;
      subject: string;
      body: string;
    }>();
    expect(mail?.template).toBe("invitation");
    expect(mail?.body).toContain("Outbox");
    expect(mail?.body).toContain("admin");
    const event = await env.DB.prepare("SELECT type, data, ip FROM events WHERE user_id = ? AND type = 'invitation_sent'").bind(admin.id).first<{
      data: string;
      ip: string;
    }>();
    expect(JSON.parse(event!.data)).toMatchObject({ communityId: admin.communityId, role: "admin" });
    expect(event?.ip).toBe(admin.client.ip);
  });

  it("409 already_member for a member's email in any letter case; nothing is written", async () => {
    const { admin, member, cid } = await communityWithMember();
    const before = await env.DB.prepare("SELECT (SELECT count(*) FROM invitations) + (SELECT count(*) FROM outbox) AS n").first<{ n: number }>();
    await expectProblem(
      await admin.client.request("POST", `/api/communities/${cid}/invitations`, { email: member.email.toUpperCase(), role: "admin" }),
      409,
      "already_member",
    );
    await expectProblem(
      await admin.client.request("POST", `/api/communities/${cid}/invitations`, { email: admin.email, role: "member" }),
      409,
      "already_member",
    );
    const after = await env.DB.prepare("SELECT (SELECT count(*) FROM invitations) + (SELECT count(*) FROM outbox) AS n").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it("only admins invite: a member gets 403, an outsider 404", async () => {
    const { member, cid } = await communityWithMember();
    await expectProblem(await member.client.request("POST", `/api/communities/${cid}/invitations`, { email: uniqueEmail(), role: "member" }), 403, "forbidden");
    const outsider = await newUser();
    await expectProblem(
      await outsider.client.request("POST", `/api/communities/${cid}/invitations`, { email: uniqueEmail(), role: "member" }),
      404,
      "not_found",
    );
  });
});

describe("pending invitations", () => {
  it("admins list the pending ones: not accepted, not expired; a new invitation replaces the old", async () => {
    const admin = await newUser({ community: "Pending" });
    const cid = admin.communityId!;
    const [a, b, c] = [uniqueEmail("a"), uniqueEmail("b"), uniqueEmail("c")];
    await invite(admin, cid, a);
    const first = await invite(admin, cid, b);
    const again = await invite(admin, cid, b, "admin");
    const expired = await invite(admin, cid, c);
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, expired.body.invitation.id)
      .run();
    const list = await admin.client.json("GET", `/api/communities/${cid}/invitations`);
    expect(list.status).toBe(200);
    const byEmail = Object.fromEntries(list.body.invitations.map((i: { email: string }) => [i.email, i]));
    expect(Object.keys(byEmail).sort()).toEqual([a, b].sort());
    expect(byEmail[b]).toEqual(again.body.invitation);
    expect(byEmail[b].id).not.toBe(first.body.invitation.id);
  });

  it("the list is for admins only", async () => {
    const { member, cid } = await communityWithMember();
    await expectProblem(await member.client.request("GET", `/api/communities/${cid}/invitations`), 403, "forbidden");
    await expectProblem(await (await newUser()).client.request("GET", `/api/communities/${cid}/invitations`), 404, "not_found");
  });

  it("GET /api/invitations shows the invitee their own, and nobody else", async () => {
    const admin = await newUser({ community: "For you" });
    const invitee = await newUser();
    const other = await newUser();
    const sent = await invite(admin, admin.communityId!, invitee.email, "admin");
    const mine = await invitee.client.json("GET", "/api/invitations");
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      invitations: [
        { id: sent.body.invitation.id, community: { id: admin.communityId, name: "For you" }, role: "admin", expiresAt: sent.body.invitation.expiresAt },
      ],
    });
    expect((await other.client.json("GET", "/api/invitations")).body).toEqual({ invitations: [] });
    // The inviting admin does not see it as theirs either.
    expect((await admin.client.json("GET", "/api/invitations")).body).toEqual({ invitations: [] });
  });
});

describe("POST /api/invitations/{id}/accept", () => {
  for (const role of ["member", "admin"] as const) {
    it(`accepting makes a membership with the invited role (${role}), and writes invitation_accepted`, async () => {
      const admin = await newUser({ community: `Join as ${role}` });
      const invitee = await newUser();
      const sent = await invite(admin, admin.communityId!, invitee.email, role);
      const res = await invitee.client.json("POST", `/api/invitations/${sent.body.invitation.id}/accept`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ community: { id: admin.communityId, name: `Join as ${role}`, role } });
      const me = await invitee.client.json("GET", "/api/me");
      expect(me.body.communities).toEqual([{ id: admin.communityId, name: `Join as ${role}`, role }]);
      const members = await admin.client.json("GET", `/api/communities/${admin.communityId}/members`);
      expect(members.body.members.find((m: { id: string }) => m.id === invitee.id)?.role).toBe(role);
      const event = await env.DB.prepare("SELECT data FROM events WHERE user_id = ? AND type = 'invitation_accepted'")
        .bind(invitee.id)
        .first<{ data: string }>();
      expect(JSON.parse(event!.data)).toMatchObject({ communityId: admin.communityId });
      // Accepted: no longer pending anywhere.
      expect((await invitee.client.json("GET", "/api/invitations")).body.invitations).toEqual([]);
      expect((await admin.client.json("GET", `/api/communities/${admin.communityId}/invitations`)).body.invitations).toEqual([]);
      // An admin by invitation can administer.
      expect((await invitee.client.json("GET", `/api/communities/${admin.communityId}/members`)).status).toBe(role === "admin" ? 200 : 403);
    });
  }

  it("someone else's invitation: 404, and it stays usable by its invitee", async () => {
    const admin = await newUser({ community: "Not yours" });
    const invitee = await newUser();
    const thief = await newUser();
    const sent = await invite(admin, admin.communityId!, invitee.email);
    const id = sent.body.invitation.id;
    await expectProblem(await thief.client.request("POST", `/api/invitations/${id}/accept`), 404, "not_found");
    // Not even the admin who sent it can accept on the invitee's behalf.
    await expectProblem(await admin.client.request("POST", `/api/invitations/${id}/accept`), 404, "not_found");
    const thiefMembership = await env.DB.prepare("SELECT 1 FROM memberships WHERE user_id = ?").bind(thief.id).first();
    expect(thiefMembership).toBeNull();
    expect((await invitee.client.json("POST", `/api/invitations/${id}/accept`)).status).toBe(200);
  });

  it("an expired invitation: 404, and no membership", async () => {
    const admin = await newUser({ community: "Expired" });
    const invitee = await newUser();
    const sent = await invite(admin, admin.communityId!, invitee.email);
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1000, sent.body.invitation.id)
      .run();
    expect((await invitee.client.json("GET", "/api/invitations")).body.invitations).toEqual([]);
    await expectProblem(await invitee.client.request("POST", `/api/invitations/${sent.body.invitation.id}/accept`), 404, "not_found");
    expect(await env.DB.prepare("SELECT 1 FROM memberships WHERE user_id = ?").bind(invitee.id).first()).toBeNull();
  });

  it("a used invitation: 404 the second time; two simultaneous accepts make one membership", async () => {
    const admin = await newUser({ community: "Used" });
    const invitee = await newUser();
    const sent = await invite(admin, admin.communityId!, invitee.email);
    const id = sent.body.invitation.id;
    const results = await Promise.all([1, 2, 3].map(() => invitee.client.request("POST", `/api/invitations/${id}/accept`)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    await expectProblem(await invitee.client.request("POST", `/api/invitations/${id}/accept`), 404, "not_found");
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'invitation_accepted'")
      .bind(invitee.id)
      .first<{ n: number }>();
    expect(events?.n).toBe(1);
  });

  it("two accepts in the same millisecond (the Workers clock stands still between I/O) write one event", async () => {
    const admin = await newUser({ community: "Same instant" });
    const invitee = await newUser();
    const id = (await invite(admin, admin.communityId!, invitee.email)).body.invitation.id;
    const user = { id: invitee.id, email: invitee.email, name: invitee.name };
    const now = Date.now();
    const meta = { ip: null, userAgent: null };
    expect(await acceptInvitation(env.DB, id, user, meta, now)).not.toBeNull();
    expect(await acceptInvitation(env.DB, id, user, meta, now)).toBeNull();
    const events = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = ? AND type = 'invitation_accepted'")
      .bind(invitee.id)
      .first<{ n: number }>();
    expect(events?.n).toBe(1);
  });

  it("an unknown id: 404", async () => {
    const u = await newUser();
    await expectProblem(await u.client.request("POST", "/api/invitations/no-such-invitation/accept"), 404, "not_found");
  });

  it("an invitation for an email with no account yet is accepted after signing up with it", async () => {
    const admin = await newUser({ community: "Later" });
    const email = uniqueEmail("later");
    const sent = await invite(admin, admin.communityId!, email);
    const c = new Client();
    const signup = await c.json("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Later" });
    expect(signup.status).toBe(201);
    await c.post("/api/auth/login", { email, password: PASSWORD });
    // The new account must prove the address first (test/squatter.security.test.ts: or post the invitation's link).
    await expectProblem(await c.request("POST", `/api/invitations/${sent.body.invitation.id}/accept`), 403, "email_unverified");
    await proveEmail(signup.body.user.id);
    expect((await c.json("POST", `/api/invitations/${sent.body.invitation.id}/accept`)).body.community.role).toBe("member");
  });
});

describe("an admin can never add someone without their acceptance", () => {
  it("an invited account is not a member, is not listed, and cannot be reset, until it accepts", async () => {
    const admin = await newUser({ community: "Consent" });
    const cid = admin.communityId!;
    const target = await newUser();
    await enableTOTP(target.client);
    await invite(admin, cid, target.email, "member");
    expect(await env.DB.prepare("SELECT 1 FROM memberships WHERE user_id = ?").bind(target.id).first()).toBeNull();
    const members = await admin.client.json("GET", `/api/communities/${cid}/members`);
    expect(members.body.members.map((m: { id: string }) => m.id)).toEqual([admin.id]);
    await admin.client.post("/api/security/reauth", { password: PASSWORD });
    const reset = await admin.client.request("POST", `/api/communities/${cid}/members/${target.id}/reset-2fa`, { password: PASSWORD });
    await expectProblem(reset, 404, "not_found");
    // The target's 2FA is untouched.
    expect((await target.client.json("GET", "/api/me")).body.twoFactor.enabled).toBe(true);
  });

  it("no documented endpoint adds a member directly", async () => {
    const doc = (await (await new Client().request("GET", "/api/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
    const writes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ["post", "put", "patch"].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const memberWrites = writes.filter((w) => /\/members(\/\{uid\})?$/.test(w));
    expect(memberWrites).toEqual([]);
  });
});
