// Login timing: unknown email against wrong password, interleaved.
import { Client, median, PASSWORD, pool, summarize, uniqueEmail } from "../lib/client.mjs";
import { isReload } from "../lib/run-state.mjs";

/**
 * Logins for unknown emails and for known emails with a wrong password, the same
 * number of each, interleaved and one at a time so both see the same machine.
 * Every attempt uses a distinct email and client address (the throttle keys on
 * both); a known account takes at most 5 wrong passwords (its bucket holds 10).
 */
export async function loginTiming(run) {
  const { base } = run;
  const n = run.opt.timingSamples;
  const accounts = [];
  const perAccount = 5;
  await pool(Math.ceil(n / perAccount), 4, async () => {
    const c = new Client(base);
    const email = uniqueEmail("timing");
    const r = await c.post("/api/auth/signup", { email, password: PASSWORD, name: "Timing" });
    if (r.status === 201) accounts.push(email);
    else run.error(`timing signup: ${r.status}`);
  });
  const unknown = [];
  const wrong = [];
  for (let i = 0; i < n; i++) {
    const known = accounts[Math.floor(i / perAccount) % accounts.length];
    const pair = [
      { list: unknown, email: uniqueEmail("nobody"), password: PASSWORD },
      { list: wrong, email: known, password: `${PASSWORD} but wrong` },
    ];
    if (i % 2) pair.reverse();
    for (const p of pair) {
      const c = new Client(base);
      const r = await c.post("/api/auth/login", { email: p.email, password: p.password });
      if (isReload(r)) {
        run.stats.devReloads += 1;
        continue;
      }
      if (r.status !== 401 || r.body?.code !== "invalid_credentials") run.error(`timing login: ${r.status} ${JSON.stringify(r.body)}`);
      p.list.push(r.ms);
    }
  }
  const mu = median(unknown);
  const mw = median(wrong);
  return { n, unknown: mu, wrong: mw, ratio: mu / mw, summaries: { unknown: summarize(unknown), wrong: summarize(wrong) } };
}
