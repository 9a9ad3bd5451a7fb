import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { addAuthenticatorApp, enableTOTP, newUser, PASSWORD, resetMember, resetWorld } from "./support/fixtures";
import { guard, refusingUserWrites, withTrigger } from "./support/stores";

/**
 * Changes that touch both stores while D1 fails halfway (docs/architecture.md "Changes that touch both
 * stores"): the guard makes the change in one step and D1 follows through the guard's pending records, retried
 * by its alarm. D1 failing is a real failure of the real database, injected with a trigger for a while.
 */

/** The guard's alarm comes round `times` while D1 still fails: each is one more failed attempt of the same record. */
async function outageLasts(userId: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) expect(await runDurableObjectAlarm(guard(userId))).toBe(true);
}

async function attemptsOf(userId: string): Promise<number[]> {
  return runInDurableObject(guard(userId), (_instance, state) =>
    state.storage.sql
      .exec<{ attempts: number }>("SELECT attempts FROM pending WHERE d1_done = 0 ORDER BY rowid")
      .toArray()
      .map((r) => r.attempts),
  );
}

async function alarmOf(userId: string): Promise<number | null> {
  return runInDurableObject(guard(userId), (_instance, state) => state.storage.getAlarm());
}

/** How soon after D1 is back the guard writes what it holds: the sessions a change ended live in D1 until then. */
const D1_CATCHES_UP_WITHIN_MS = 30_000;

describe("a D1 outage that outlasts a few retries (R13i)", () => {
  it("does not keep the sessions an admin's reset ended alive for up to an hour after D1 is back", async () => {
    const world = await resetWorld();
    // The member's session is the one the reset must end (the reason for a reset: someone else holds it).
    const intruder = world.member.client;
    await refusingUserWrites("session_epoch", world.member.id, async () => {
      await resetMember(world);
      // About eight and a half minutes of outage: the guard tried 1 + 8 times, each failure doubling the wait.
      await outageLasts(world.member.id, 8);
      expect(await attemptsOf(world.member.id)).toEqual([9]);
    });
    // D1 is back. Until the guard's record lands, D1 still holds the ended session at the old epoch, and every
    // route that reads only D1 (the sessions list, ending the owner's sessions, a community's admin pages) takes it.
    expect((await intruder.get("/api/security/sessions")).status).toBe(200);
    const alarm = await alarmOf(world.member.id);
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(Date.now() + D1_CATCHES_UP_WITHIN_MS);

    // The retry at that time lands, and the session is dead in D1 too.
    expect(await runDurableObjectAlarm(guard(world.member.id))).toBe(true);
    expect(await attemptsOf(world.member.id)).toEqual([]);
    await expectProblem(await intruder.get("/api/security/sessions"), 401, "unauthenticated");
  });

  it("does not let the old password log in, and the new one not, for up to an hour after D1 is back from a password change", async () => {
    const user = await newUser();
    const NEW_PASSWORD = "a new password for after the outage";
    await refusingUserWrites("session_epoch", user.id, async () => {
      expect((await user.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
      await outageLasts(user.id, 8);
    });
    // D1 is back and still holds the old hash: the old password logs in, the new one does not, until the record lands
    // (a login's own guard call that commits something, a new browser's alert, would flush it sooner; the alarm must not wait for one).
    const alarm = await alarmOf(user.id);
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(Date.now() + D1_CATCHES_UP_WITHIN_MS);
    expect(await runDurableObjectAlarm(guard(user.id))).toBe(true);
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: PASSWORD }), 401, "invalid_credentials");
    expect((await new Client().json("POST", "/api/auth/login", { email: user.email, password: NEW_PASSWORD })).status).toBe(200);
  });
});

describe("an old change whose D1 write waits behind a newer one", () => {
  it("lands first: an app added while D1 refused it does not come back in D1 after 2FA was turned off", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    await withTrigger(
      "hold_method_listing",
      `CREATE TRIGGER hold_method_listing BEFORE INSERT ON methods
       WHEN NEW.user_id = '${user.id}' BEGIN SELECT RAISE(ABORT, 'injected D1 failure'); END`,
      async () => {
        await addAuthenticatorApp(user.client, { name: "Second phone" });
        expect((await user.client.post("/api/security/disable", { password: PASSWORD })).status).toBe(200);
      },
    );
    // D1 is back; the alarm applies both records, the addition first, the disable after it.
    expect(await runDurableObjectAlarm(guard(user.id))).toBe(true);
    expect(await attemptsOf(user.id)).toEqual([]);
    const listed = await env.DB.prepare("SELECT count(*) AS n FROM methods WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(listed?.n).toBe(0);
    const row = await env.DB.prepare("SELECT two_factor_enabled, preferred FROM users WHERE id = ?").bind(user.id).first();
    expect(row).toEqual({ two_factor_enabled: 0, preferred: null });
    // The guard agrees: the password alone logs in.
    expect((await new Client().json("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).body.status).toBe("authenticated");
  });
});
