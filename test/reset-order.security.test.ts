import { describe, expect, it } from "vitest";
import type { Client } from "./support/client";
import { addAuthenticatorApp, communityWithMember, enableTOTP, PASSWORD, reauth, recoveryClient, resetPath, verify } from "./support/fixtures";

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
