// Timing of a bounded batch of requests, and number formatting for the tables.
import { pool, summarize } from "../../load/lib/client.mjs";

/**
 * Runs `fn(i)` for i in [0, count) with `concurrency` in flight and answers the
 * latency percentiles, requests per second and how many did not answer as
 * expected (`fn` answered false or threw; a throw still counts its time).
 */
export async function timed(count, concurrency, fn) {
  const { samples, ...run } = await timedSamples(count, concurrency, fn);
  return run;
}

/** `timed`, with the latencies themselves (`samples`), to pool several batches into one distribution. */
export async function timedSamples(count, concurrency, fn) {
  const samples = [];
  let failures = 0;
  const t0 = performance.now();
  await pool(count, concurrency, async (i) => {
    const s = performance.now();
    let ok = false;
    try {
      ok = await fn(i);
    } catch {}
    samples.push(performance.now() - s);
    if (!ok) failures += 1;
  });
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(samples), rps: count / seconds, failures, seconds, samples };
}

export function fmt(x, digits = 1) {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

/** `a / b` formatted, or n/a when either is missing. */
export function ratio(a, b, digits = 2) {
  return fmt(a / b, digits);
}
