// The TOTP second step under a login storm. `clients` storm clients send
// password logins back to back (each one a full password hash on the server)
// for as long as the phase runs, while a few other clients submit TOTP second
// steps of sessions logged in before the storm; the second steps' latency is
// the result, beside the storm's logins per second in the same window and in
// a window just before it with the storm alone (what admission control must
// not slow: with second steps served promptly, the window with them holds all
// their work, and the logins share the thread with it).
import { pool, summarize } from "../../load/lib/client.mjs";
import { fmt, timed } from "../lib/measure.mjs";

export const STORM_CLIENTS = [8, 32];
export const STORM_VERIFIERS = 4;
export const stormVerifications = (n) => n(128);
/** A bound on the storm's logins, whatever happens to the verifications. */
const MAX_STORM_LOGINS = 20_000;
/** The storm alone, measured before the second steps start. */
export const stormAloneMs = (n) => Math.max(3_000, n(15) * 1_000);

export async function loginStorm(ctx, side, clients) {
  const count = stormVerifications(ctx.n);
  const tickets = side.reserve(count);
  const sessions = [];
  await pool(count, 8, async (i) => {
    sessions[i] = await side.login(tickets[i]);
  });

  let stop = false;
  let started = 0;
  let finished = 0;
  let failed = 0;
  /** Storm logins that finished while the verifications ran: [end time, latency]. */
  const ends = [];
  const stormers = Array.from({ length: clients }, async () => {
    while (!stop && started < MAX_STORM_LOGINS) {
      const i = started++;
      const t0 = performance.now();
      let ok = false;
      try {
        ok = await side.stormLogin(i);
      } catch {}
      const t1 = performance.now();
      finished += 1;
      if (!ok) failed += 1;
      ends.push([t1, t1 - t0]);
    }
  });
  // Every storm client has had an answer before measuring: the server's queue is full.
  const warmUntil = Date.now() + 120_000;
  while (finished < clients && Date.now() < warmUntil) await new Promise((r) => setTimeout(r, 50));

  const a0 = performance.now();
  await new Promise((r) => setTimeout(r, stormAloneMs(ctx.n)));
  const w0 = performance.now();
  const verify = await timed(count, STORM_VERIFIERS, async (i) => sessions[i] != null && (await side.verify(sessions[i])));
  const w1 = performance.now();
  stop = true;
  await Promise.all(stormers);

  const inWindow = ends.filter(([t]) => t >= w0 && t <= w1).map(([, ms]) => ms);
  const alone = ends.filter(([t]) => t >= a0 && t < w0).length / ((w0 - a0) / 1000);
  const storm = {
    ...summarize(inWindow),
    loginsPerSecond: inWindow.length / ((w1 - w0) / 1000),
    aloneLoginsPerSecond: alone,
    total: finished,
    failures: failed,
  };
  ctx.log(
    `${side.name}, storm of ${clients}: TOTP step p50 ${fmt(verify.p50)} p99 ${fmt(verify.p99)} ms; storm ${fmt(storm.loginsPerSecond)} logins/s (alone before: ${fmt(alone)})`,
  );
  return { key: side.key, name: side.name, clients, verifiers: STORM_VERIFIERS, verify, storm };
}
