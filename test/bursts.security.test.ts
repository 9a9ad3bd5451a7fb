import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { enableTOTP, newUser, PASSWORD, reauth, type TestUser } from "./support/fixtures";
import { callerAt, guard, guardRows, recoveryRow, sessionCallerAt } from "./support/stores";

/**
 * Bursts against what is single-use or bounded, and changes that conflict when they land at once
 * (docs/security.md, findings R12m and after): the requests go out together, and the invariant is read
 * afterwards in D1 and in the guards. Bursts that other files already fire: one backup or recovery code from
 * many sessions (test/races.security.test.ts, test/backup-codes.test.ts), one email link
 * (test/email-tokens.security.test.ts, test/password-reset.security.test.ts), one invitation's link
 * (test/squatter.security.test.ts), one security-key assertion and one credential id
 * (test/webauthn.security.test.ts), the lock's count (test/lockout.security.test.ts), the reset and invitation
 * windows (test/admin-safeguards.security.test.ts, test/names.security.test.ts), the last two admins leaving.
 */

type Admin = TestUser & { communityId: string };

async function join(admin: Admin, who: TestUser, role: "admin" | "member"): Promise<void> {
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: who.email, role });
  expect(invite.status).toBe(201);
  expect((await who.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
}

const resetPath = (cid: string, uid: string) => `/api/communities/${cid}/members/${uid}/reset-2fa`;

async function twoFactorInD1(userId: string): Promise<number> {
  return ((await env.DB.prepare("SELECT two_factor_enabled AS on_ FROM users WHERE id = ?").bind(userId).first<{ on_: number }>())?.on_ ?? -1) as number;
}

describe("two admins resetting each other at the same instant", () => {
  it("exactly one reset lands: the other admin was reset first, so their own reset is 401 and the winner keeps 2FA, session and no recovery code", async () => {
    for (let round = 0; round < 3; round++) {
      const a = (await newUser({ community: `Mutual ${round}`, name: "Ada" })) as Admin;
      const b = await newUser({ name: "Bo" });
      await join(a, b, "admin");
      await enableTOTP(a.client);
      await enableTOTP(b.client);
      await reauth(a.client);
      await reauth(b.client);
      const [byA, byB] = await Promise.all([
        a.client.json("POST", resetPath(a.communityId, b.id), { password: PASSWORD }),
        b.client.json("POST", resetPath(a.communityId, a.id), { password: PASSWORD }),
      ]);
      const statuses = [byA.status, byB.status].sort();
      // In any order one after the other, the second admin's session is dead and their 2FA gone when their reset comes.
      expect(statuses, `round ${round}`).toEqual([200, 401]);
      const [winner, loser] = byA.status === 200 ? [a, b] : [b, a];
      // The guards: the loser was reset (a recovery code waits, no method); the winner was not.
      expect(await recoveryRow(loser.id)).not.toBeNull();
      expect(await recoveryRow(winner.id)).toBeNull();
      expect(await guardRows(winner.id, "SELECT id FROM totp WHERE confirmed_at IS NOT NULL")).toHaveLength(1);
      expect(await guardRows(loser.id, "SELECT id FROM totp")).toHaveLength(0);
      // D1 agrees, and the winner is still logged in while the loser is not.
      expect(await twoFactorInD1(winner.id)).toBe(1);
      expect(await twoFactorInD1(loser.id)).toBe(0);
      expect((await winner.client.json("GET", "/api/me")).status).toBe(200);
      expect((await loser.client.json("GET", "/api/me")).status).toBe(401);
    }
  });
  /**
   * Two starts in the same millisecond compare equal, so each guard needs the same tie-break (the smaller user id
   * goes first, `resetFirst`, src/guard/reset.ts) or neither refuses. Too narrow to hit through the routes on
   * demand: the guards are called in the route's order with the one start both admins' begins recorded.
   */
  it("two resets begun in the same millisecond: exactly one lands, the one by the smaller user id", async () => {
    const a = (await newUser({ community: "Same instant", name: "Ada" })) as Admin;
    const b = await newUser({ name: "Bo" });
    await join(a, b, "admin");
    await enableTOTP(a.client);
    await enableTOTP(b.client);
    const at = Date.now();
    const beginA = await guard(a.id).beginAdminReset(sessionCallerAt(a, at), b.id, a.communityId);
    const beginB = await guard(b.id).beginAdminReset(sessionCallerAt(b, at), a.id, a.communityId);
    expect(beginA).toMatchObject({ ok: true, at, landed: [] });
    expect(beginB).toMatchObject({ ok: true, at, landed: [] });
    const acting = (admin: TestUser) => ({
      id: admin.id,
      name: admin.name,
      stage: "authenticated" as const,
      communityId: a.communityId,
      beganAt: at,
      landed: [],
    });
    const onB = await guard(b.id).adminReset(callerAt(b, at), acting(a));
    const onA = await guard(a.id).adminReset(callerAt(a, at), acting(b));
    const [winner, loser] = a.id < b.id ? [a, b] : [b, a];
    expect(winner === a ? onB : onA).toMatchObject({ ok: true });
    expect(winner === a ? onA : onB).toEqual({ ok: false, reason: "admin_reset_first" });
    expect(await recoveryRow(loser.id)).not.toBeNull();
    expect(await recoveryRow(winner.id)).toBeNull();
  });
});
