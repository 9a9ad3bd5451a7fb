// Password-reset timing: unknown against known emails, interleaved.
import { Client, median, PASSWORD, pool, summarize, uniqueEmail } from "../lib/client.mjs";
import { isReload } from "../lib/run-state.mjs";

/**
 * Password-reset requests for unknown emails and for known ones, the same
 * number of each, interleaved and one at a time. Both must answer 202 with an
 * empty body in similar time: the request only enqueues a message, and the
 * email is looked up by the queue's consumer (src/auth/password-reset-queue.ts).
 * Every request comes from its own client address, and each email, known or
 * not, is asked for 3 links (its per-email bucket holds 3): an email's first
 * request also creates its throttle object, so a fresh unknown email each time
 * against known ones asked thrice would time that creation, not the service's
 * knowledge of the email.
 */
export async function resetTiming(run) {
  const { base } = run;
  const n = run.opt.timingSamples;
  const perAccount = 3;
  const accounts = [];
  await pool(Math.ceil(n / perAccount), 4, async () => {
    const c = new Client(base);
    const email = uniqueEmail("reset-timing");
    const r = await c.post("/api/auth/signup", { email, password: PASSWORD, name: "Reset timing" });
    if (r.status === 201) accounts.push(email);
    else run.error(`reset timing signup: ${r.status}`);
  });
  const nobodies = accounts.map(() => uniqueEmail("nobody"));
  const unknown = [];
  const known = [];
  for (let i = 0; i < n; i++) {
    const pair = [
      { list: unknown, email: nobodies[Math.floor(i / perAccount) % nobodies.length] },
      { list: known, email: accounts[Math.floor(i / perAccount) % accounts.length] },
    ];
    if (i % 2) pair.reverse();
    for (const p of pair) {
      const c = new Client(base);
      const r = await c.post("/api/auth/password-reset", { email: p.email });
      if (isReload(r)) {
        run.stats.devReloads += 1;
        continue;
      }
      if (r.status !== 202 || r.body !== null) run.error(`reset timing: ${r.status} ${JSON.stringify(r.body)}`);
      p.list.push(r.ms);
    }
  }
  const mu = median(unknown);
  const mk = median(known);
  return { n, unknown: mu, known: mk, ratio: mu / mk, summaries: { unknown: summarize(unknown), known: summarize(known) } };
}
