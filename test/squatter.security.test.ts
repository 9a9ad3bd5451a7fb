import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { addAuthenticatorApp, enableTOTP, logIn, newUser, PASSWORD, reauth, uniqueEmail } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { eventTypesOf, guard, guardRows, worldSnapshot } from "./support/stores";

/**
 * Invitations need proof of the email. The squatter: someone signs up with
 * an invited address before its owner does, turns 2FA on, and tries to join
 * the community. They get 403 email_unverified; the owner, with the
 * invitation's own link and a password reset, takes the account over (the
 * squatter's 2FA removed, their sessions ended) and joins. Nor does anyone the
 * squatter brought in outlive that takeover as the owner's admin (R11h).
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

const OWNER_PASSWORD = "the owner's own long password";

async function invite(admin: { client: Client; communityId?: string }, email: string, role: "admin" | "member" = "admin"): Promise<string> {
  const res = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email, role });
  expect(res.status).toBe(201);
  return res.body.invitation.id as string;
}

describe("the squatter", () => {
  it("cannot accept with an unproven email; the owner takes the account over through the links sent to the address and joins", async () => {
    const admin = await newUser({ community: "Squatted" });
    const victim = uniqueEmail("victim");
    const id = await invite(admin, victim);
    const invitationToken = mail.lastToken(victim, "invitations")!;
    expect(invitationToken.startsWith(`${id}.`)).toBe(true);

    // The squatter signs up with the invited address first and turns 2FA on.
    const squatter = new Client();
    expect((await squatter.json("POST", "/api/auth/signup", { email: victim, password: PASSWORD, name: "Squatter" })).status).toBe(201);
    expect((await squatter.json("POST", "/api/auth/login", { email: victim, password: PASSWORD })).body.status).toBe("authenticated");
    const squatterId = (await squatter.json("GET", "/api/me")).body.user.id as string;
    await enableTOTP(squatter);
    const before = await worldSnapshot();
    await expectProblem(await squatter.post(`/api/invitations/${id}/accept`), 403, "email_unverified");
    expect(await worldSnapshot()).toEqual(before);
    // A made-up token for the right invitation is no better.
    await expectProblem(await squatter.post(`/api/invitations/${id}/accept`, { token: `${id}.${"A".repeat(43)}` }), 400, "invalid_token");

    // The owner cannot sign up (the address is taken); they reset the password through their inbox.
    expect((await new Client().json("POST", "/api/auth/signup", { email: victim, password: OWNER_PASSWORD, name: "Owner" })).status).toBe(409);
    expect((await new Client().post("/api/auth/password-reset", { email: victim })).status).toBe(202);
    const resetToken = await mail.nextToken(victim, "reset-password");
    expect((await new Client().post("/api/auth/password-reset/confirm", { token: resetToken, password: OWNER_PASSWORD })).status).toBe(204);

    // The squatter is out, and their 2FA is gone: the owner logs in with the password alone.
    await expectProblem(await squatter.get("/api/me"), 401, "unauthenticated");
    expect(await guardRows(squatterId, "SELECT id FROM totp")).toEqual([]);
    expect(await guardRows(squatterId, "SELECT hash FROM backup_codes")).toEqual([]);
    const owner = await logIn(victim, OWNER_PASSWORD);
    expect(owner.body.status).toBe("authenticated");
    const joined = await owner.client.json("POST", `/api/invitations/${id}/accept`, { token: invitationToken });
    expect(joined.status).toBe(200);
    expect(joined.body.community.role).toBe("admin");
    expect(await guard(squatterId).emailVerified()).toBe(true);
    expect(await eventTypesOf(squatterId)).toEqual(expect.arrayContaining(["password_reset", "email_verified", "invitation_accepted"]));
  });

  it("an unverified account accepts with its invitation's link, which also proves the email", async () => {
    const admin = await newUser({ community: "Linked" });
    const invitee = await newUser({ verified: false });
    const id = await invite(admin, invitee.email, "member");
    const token = mail.lastToken(invitee.email, "invitations")!;
    await expectProblem(await invitee.client.post(`/api/invitations/${id}/accept`), 403, "email_unverified");
    expect((await invitee.client.json("POST", `/api/invitations/${id}/accept`, { token })).status).toBe(200);
    expect((await invitee.client.json("GET", "/api/me")).body.user.emailVerified).toBe(true);
  });
});

/** A squatter's account, made with `email` and a community of its own, logged in (fully: no 2FA yet). */
async function squattedAccount(email: string, community: string): Promise<{ client: Client; id: string; communityId: string }> {
  const client = new Client();
  const signup = await client.json("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Squatter", community });
  expect(signup.status).toBe(201);
  expect((await client.json("POST", "/api/auth/login", { email, password: PASSWORD })).body.status).toBe("authenticated");
  return { client, id: signup.body.user.id as string, communityId: (await client.json("GET", "/api/me")).body.communities[0].id as string };
}

/** The owner of `email` takes the account over through the reset link, logs in and turns 2FA on. */
async function takeOver(email: string): Promise<Client> {
  expect((await new Client().post("/api/auth/password-reset", { email })).status).toBe(202);
  const resetToken = await mail.nextToken(email, "reset-password");
  expect((await new Client().post("/api/auth/password-reset/confirm", { token: resetToken, password: OWNER_PASSWORD })).status).toBe(204);
  const owner = await logIn(email, OWNER_PASSWORD);
  expect(owner.body.status).toBe("authenticated");
  expect((await owner.client.post("/api/security/reauth", { password: OWNER_PASSWORD })).status).toBe(204);
  await addAuthenticatorApp(owner.client, { reauth: false });
  return owner.client;
}

/**
 * The squatter's setup: an account made with a fresh victim address and `community`, and an accomplice (an
 * account of their own, proven, with 2FA) invited as a second admin. Inviting needs no proven address.
 */
async function squatterWithAccomplice(community: string) {
  const victim = uniqueEmail("victim");
  const squatter = await squattedAccount(victim, community);
  const accomplice = await newUser({ name: "Accomplice" });
  await enableTOTP(accomplice.client);
  const invitation = await invite({ client: squatter.client, communityId: squatter.communityId }, accomplice.email, "admin");
  return { victim, squatter, accomplice, invitation };
}

describe("what the squatter set up does not outlive the owner's takeover (R11h)", () => {
  it("a co-admin the squatter brought in is no longer the owner's admin: no reset of the owner's 2FA, no community shared with them", async () => {
    // The squatter signs up first with the victim's address and a community, unproven, and invites an accomplice
    // as a second admin, who accepts.
    const { victim, squatter, accomplice, invitation } = await squatterWithAccomplice("Squat Co");
    expect((await accomplice.client.json("POST", `/api/invitations/${invitation}/accept`)).status).toBe(200);

    const owner = await takeOver(victim);

    // The accomplice cannot reset the owner's 2FA, which would keep the owner at recovery_code_required with the
    // code in the accomplice's hands, and with the owner's password (phished or reused) log in with no second factor.
    await reauth(accomplice.client);
    await expectProblem(
      await accomplice.client.post(`/api/communities/${squatter.communityId}/members/${squatter.id}/reset-2fa`, { password: PASSWORD }),
      404,
      "not_found",
    );
    expect((await new Client().json("POST", "/api/auth/login", { email: victim, password: OWNER_PASSWORD })).body.status).toBe("second_factor_required");
    // The owner is in no community someone else administers; the accomplice keeps the squatter's community, alone.
    expect((await owner.json("GET", "/api/me")).body.communities).toEqual([]);
    const members = await accomplice.client.json("GET", `/api/communities/${squatter.communityId}/members`);
    expect(members.body.members.map((m: { id: string }) => m.id)).toEqual([accomplice.id]);
    // The owner's log says which community the account left, and the takeover's email says why.
    const events = await owner.json("GET", "/api/security");
    const left = events.body.events.filter((e: { type: string }) => e.type === "member_left");
    expect(left.map((e: { data: unknown }) => e.data)).toEqual([{ communityId: squatter.communityId, communityName: "Squat Co", reason: "password_reset" }]);
    const notice = mail.to(victim).find((m) => m.subject === "Your password was changed");
    expect(notice?.text).toContain("left every community in which someone else is an admin");
  });

  it("an invitation the squatter sent that is still pending is withdrawn: its invitee cannot join the owner's community afterwards", async () => {
    const { victim, squatter, accomplice, invitation } = await squatterWithAccomplice("Pending Co");

    const owner = await takeOver(victim);

    await expectProblem(await accomplice.client.post(`/api/invitations/${invitation}/accept`), 404, "not_found");
    expect((await accomplice.client.json("GET", "/api/invitations")).body.invitations).toEqual([]);
    // The owner keeps the community: nobody else administers it.
    const me = (await owner.json("GET", "/api/me")).body;
    expect(me.communities).toEqual([{ id: squatter.communityId, name: "Pending Co", role: "admin" }]);
    expect((await owner.json("GET", `/api/communities/${squatter.communityId}/invitations`)).body.invitations).toEqual([]);
  });

  it("an unproven creator alone in administering their community keeps it, members included, after a password reset", async () => {
    // The account's own community, with a plain member who joined: plain members reset nobody.
    const email = uniqueEmail("creator");
    const creator = await squattedAccount(email, "Own Club");
    const member = await newUser({ name: "Member" });
    const invitation = await invite({ client: creator.client, communityId: creator.communityId }, member.email, "member");
    expect((await member.client.json("POST", `/api/invitations/${invitation}/accept`)).status).toBe(200);

    const owner = await takeOver(email);

    expect((await owner.json("GET", "/api/me")).body.communities).toEqual([{ id: creator.communityId, name: "Own Club", role: "admin" }]);
    const members = await owner.json("GET", `/api/communities/${creator.communityId}/members`);
    expect(members.body.members.map((m: { id: string; role: string }) => [m.id, m.role]).sort()).toEqual(
      [
        [creator.id, "admin"],
        [member.id, "member"],
      ].sort(),
    );
    expect(await eventTypesOf(creator.id)).not.toContain("member_left");
  });

  it("a proven account's password reset leaves every membership and pending invitation as it was", async () => {
    const admin = await newUser({ community: "Proven Co" });
    const coAdmin = await newUser({ name: "Co-admin" });
    expect((await coAdmin.client.json("POST", `/api/invitations/${await invite(admin, coAdmin.email, "admin")}/accept`)).status).toBe(200);
    const pending = await invite(admin, uniqueEmail("later"), "member");
    const memberships = () => env.DB.prepare("SELECT community_id, user_id, role FROM memberships WHERE user_id = ?").bind(admin.id).all();
    const before = (await memberships()).results;
    expect(before).toHaveLength(1);

    expect((await new Client().post("/api/auth/password-reset", { email: admin.email })).status).toBe(202);
    const token = await mail.nextToken(admin.email, "reset-password");
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: OWNER_PASSWORD })).status).toBe(204);

    expect((await memberships()).results).toEqual(before);
    const owner = await logIn(admin.email, OWNER_PASSWORD);
    const invitations = await owner.client.json("GET", `/api/communities/${admin.communityId}/invitations`);
    expect(invitations.body.invitations.map((i: { id: string }) => i.id)).toEqual([pending]);
    expect(await eventTypesOf(admin.id)).not.toContain("member_left");
  });
});

describe("invitation tokens", () => {
  it("of 20 parallel accepts with one link exactly one succeeds; the others are 400 invalid_token or 404", async () => {
    const admin = await newUser({ community: "Twenty" });
    const invitee = await newUser({ verified: false });
    const id = await invite(admin, invitee.email, "member");
    const token = mail.lastToken(invitee.email, "invitations")!;
    const answers = await Promise.all(Array.from({ length: 20 }, () => invitee.client.request("POST", `/api/invitations/${id}/accept`, { token })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 200)) expect([400, 404]).toContain(r.status);
    expect((await eventTypesOf(invitee.id)).filter((t) => t === "invitation_accepted")).toHaveLength(1);
  });

  it("another invitation's token, a replaced link and malformed tokens are 400 invalid_token and change nothing; an expired invitation is 404", async () => {
    const admin = await newUser({ community: "Tokens" });
    const invitee = await newUser({ verified: false });
    const other = await newUser({ verified: false });
    const otherId = await invite(admin, other.email, "member");
    const otherToken = mail.lastToken(other.email, "invitations")!;
    const first = await invite(admin, invitee.email, "member");
    const firstToken = mail.lastToken(invitee.email, "invitations")!;
    const id = await invite(admin, invitee.email, "member");
    const token = mail.lastToken(invitee.email, "invitations")!;
    const before = await worldSnapshot();
    const secret = token.slice(token.indexOf(".") + 1);
    // The replaced invitation is gone (404); its token does not open the new one.
    await expectProblem(await invitee.client.post(`/api/invitations/${first}/accept`, { token: firstToken }), 404, "not_found");
    for (const t of [firstToken, otherToken, `${otherId}.${secret}`, "garbage", `${id}.`, `${id}.${secret}x`, `${id}.${"B".repeat(43)}`]) {
      await expectProblem(await invitee.client.post(`/api/invitations/${id}/accept`, { token: t }), 400, "invalid_token");
    }
    // Someone else's invitation: 404 first, whatever the token.
    await expectProblem(await invitee.client.post(`/api/invitations/${otherId}/accept`, { token: otherToken }), 404, "not_found");
    expect(await worldSnapshot()).toEqual(before);
    // Expired: the invitation is gone for its invitee (404), link or not.
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, id)
      .run();
    await expectProblem(await invitee.client.post(`/api/invitations/${id}/accept`, { token }), 404, "not_found");
    expect(await guard(invitee.id).emailVerified()).toBe(false);
  });
});

describe("an unverified account and invitations (docs/api.md: 404 not_found before email_unverified)", () => {
  it("GET /api/invitations lists the invitations for the caller's email, verified or not", async () => {
    const admin = await newUser({ community: "Listed" });
    const invitee = await newUser({ verified: false });
    const id = await invite(admin, invitee.email, "member");
    const listed = await invitee.client.json("GET", "/api/invitations");
    expect(listed.status).toBe(200);
    expect(listed.body.invitations).toEqual([expect.objectContaining({ id, community: { id: admin.communityId, name: "Listed" }, role: "member" })]);
  });

  it("an invitation that is not the caller's, expired or used is 404 for an unverified account, never 403 email_unverified", async () => {
    const admin = await newUser({ community: "Ordered" });
    const invitee = await newUser({ verified: false });
    const someoneElse = await newUser();
    const notMine = await invite(admin, someoneElse.email, "member");
    const expired = await invite(admin, invitee.email, "member");
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, expired)
      .run();
    const admin2 = await newUser({ community: "Used" });
    const used = await invite(admin2, invitee.email, "member");
    await env.DB.prepare("UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?").bind(Date.now(), invitee.id, used).run();
    const before = await worldSnapshot();
    for (const id of [notMine, expired, used, "no-such-invitation"]) {
      await expectProblem(await invitee.client.post(`/api/invitations/${id}/accept`), 404, "not_found");
    }
    expect(await worldSnapshot()).toEqual(before);
  });
});
