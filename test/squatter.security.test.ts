import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { enableTOTP, logIn, newUser, PASSWORD, uniqueEmail } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { eventTypesOf, guard, guardRows, worldSnapshot } from "./support/stores";

/**
 * Invitations need proof of the email. The squatter: someone signs up with
 * an invited address before its owner does, turns 2FA on, and tries to join
 * the community. They get 403 email_unverified; the owner, with the
 * invitation's own link and a password reset, takes the account over (the
 * squatter's 2FA removed, their sessions ended) and joins.
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
