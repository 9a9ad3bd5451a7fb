// TOTP slots: a step is accepted once per authenticator app, so the benchmark's
// users have several apps each, and every successful TOTP verification takes
// a (user, app) pair no other verification of the run uses. Together with the
// check that the app's last accepted step is behind the clock, no verification
// waits for the next 30-second step.
export const APPS_PER_USER = 8;

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
