// Password logins of the load test: each one a new client (own session cookie
// and client address) left at the step the login answered, from the browser its
// user set up in (the same device cookie: a returning user, as most logins are;
// new-browser alerts are tested in test/new-browser.security.test.ts).
import { Client, PASSWORD } from "./client.mjs";
import { isReload } from "./run-state.mjs";

export async function login(run, user, expectStatus) {
  const c = new Client(run.base, { recorder: run.rec, browser: user.browser });
  const r = await c.post("/api/auth/login", { email: user.email, password: PASSWORD }, "login");
  run.stats.logins += 1;
  if (isReload(r)) {
    run.stats.devReloads += 1;
    return null;
  }
  if (r.status !== 200 || r.body?.status !== expectStatus) {
    run.error(`login for ${expectStatus}: ${r.status} ${JSON.stringify(r.body)}`);
    return null;
  }
  return c;
}

/** Tops `user.sessions` up to `n` second-factor sessions. */
export async function fillSessions(run, user, n) {
  // At most 8 logins of one email in flight: the per-email throttle takes a token
  // before checking the password and holds 10, so 30 at once would be throttled.
  for (let tries = 0; tries < 10 && user.sessions.length < n; tries++) {
    const missing = Math.min(8, n - user.sessions.length);
    const made = await Promise.all(Array.from({ length: missing }, () => login(run, user, "second_factor_required")));
    for (const c of made) if (c) user.sessions.push(c);
  }
}
