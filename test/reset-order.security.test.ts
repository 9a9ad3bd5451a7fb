import { describe, expect, it } from "vitest";
import type { Client } from "./support/client";
import { addAuthenticatorApp, communityWithMember, enableTOTP, PASSWORD, reauth, recoveryClient, resetPath, verify } from "./support/fixtures";
import { callerAt, guard, sessionCallerAt } from "./support/stores";

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
