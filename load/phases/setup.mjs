// Setup: an admin with an authenticator app (only an admin with 2FA may reset), and users
// with authenticator apps. Each user makes a community of their own and invites the admin into
// it as an admin, so the admin's resets (at most 10 per community per day) and the invitations
// (at most 20 per admin per hour) stay within their limits however many users run.
import { mailedToken } from "../../test/browser/mail.mjs";
import { expect, newTOTPUser, pool } from "../lib/client.mjs";

export async function setup(run) {
  const { base, rec } = run;
  run.adminUser = await newTOTPUser(base, { recorder: rec, prefix: "admin" });
  run.admin = run.adminUser.client;
  const { admin, adminUser } = run;
  // Only a proven address may accept an invitation: the admin opens the link the signup emailed
  // (wrangler dev writes each email under .wrangler/tmp/email/, test/browser/mail.mjs reads them).
  const token = await mailedToken("verify-email", adminUser.id);
  expect(await admin.post("/api/auth/verify-email", { token }, "verify email"), 200, "verify email");

  await pool(run.opt.users, 4, async (i) => {
    const u = await newTOTPUser(base, { recorder: rec, prefix: `u${i}`, community: `Load ${i}` });
    const me = expect(await u.client.get("/api/me", "GET /api/me"), 200, "user me");
    const cid = me.body.communities[0].id;
    const inv = expect(await u.client.post(`/api/communities/${cid}/invitations`, { email: adminUser.email, role: "admin" }, "invite"), 201, "invite");
    expect(await admin.post(`/api/invitations/${inv.body.invitation.id}/accept`, undefined, "accept invitation"), 200, "accept");
    run.users.push({
      ...u,
      cid,
      index: i,
      authed: u.client,
      sessions: [],
      app: u.apps[0],
      maxStep: u.apps[0].lastStep,
      /** TOTP codes this run saw accepted, newest last, for replays: `{code, key, step}`. */
      spentTOTP: [],
      /** Codes a regeneration or a reset killed: `{method, code, key}`. */
      deadCodes: [],
      rounds: 0,
      lockedUntil: 0,
    });
  });
  console.log(`load: setup done in ${((Date.now() - run.started) / 1000).toFixed(1)} s`);
}
