// TOTP slots: a step is accepted once per authenticator app, so the benchmark's
// users have several apps each, and every successful TOTP verification takes
// a (user, app) pair no other verification of the run uses. Together with the
// check that the app's last accepted step is behind the clock, no verification
// waits for the next 30-second step.
import { newTOTPUser, pool } from "../../load/lib/client.mjs";

export const APPS_PER_USER = 8;

/**
 * Users of a service at `base` with APPS_PER_USER authenticator apps each, enough for
 * `slotsNeeded` successful TOTP verifications (and never fewer than 8, so logins spread).
 */
export async function benchUsers(base, slotsNeeded, prefix) {
  const users = [];
  await pool(Math.max(8, Math.ceil(slotsNeeded / APPS_PER_USER) + 2), 4, async (i) => {
    users[i] = await newTOTPUser(base, { prefix: `${prefix}${i}`, extraApps: APPS_PER_USER - 1 });
  });
  return users;
}

export class Slots {
  constructor(users) {
    this.list = users.flatMap((user) => user.apps.map((app) => ({ user, app })));
    this.next = 0;
  }

  take() {
    const s = this.list[this.next++];
    if (!s) throw new Error("out of TOTP slots");
    return s;
  }
}
