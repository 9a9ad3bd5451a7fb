// A burst of TOTP second steps alone against two floors: the same number of
// requests at the same concurrency to Hono's hello world, to the design's
// floor (bench/floor/: one Durable Object call and one D1 write, nothing else)
// and to POST /api/auth/verify, each with its server's CPU per request. The sessions
// are logged in before each round, so nothing else runs on the server during it.
//
// The three bursts run in several rounds, interleaved, and each side's latencies
// are pooled over the rounds: the p99 of one burst of 96 is its slowest request,
// one scheduling hiccup of this machine, while the p99 of 480 is a percentile.
// Each round starts with a different side, so a slow spell of the machine does
// not always fall on the same one.
import { Client, pool, summarize } from "../../load/lib/client.mjs";
import { workerdCPU } from "../lib/cpu.mjs";
import { fmt, timedSamples } from "../lib/measure.mjs";

export const BURST_CONCURRENCY = 32;
export const BURST_ROUNDS = 5;
export const burstCount = (n) => n(96);
/** The successful TOTP verifications of the whole burst phase: one per request of every round. */
export const burstVerifications = (n) => BURST_ROUNDS * burstCount(n);

export async function verifyBurst(ctx, ours) {
  const count = burstCount(ctx.n);
  const h = new Client(ours.helloBase);
  const f = new Client(ours.floorBase);
  const step = { method: "totp", code: "123456" };
  // A few requests first, so no side pays a cold start inside the burst.
  await pool(8, 4, () => h.get("/"));
  await pool(8, 4, () => f.post("/step", step));

  let sessions = [];
  const sides = {
    hello: side(ours.hello.pid, ours.helloPort, async () => (await h.get("/")).status === 200),
    floor: side(ours.floor.pid, ours.floorPort, async () => (await f.post("/step", step)).status === 200),
    verify: side(ours.server.pid, ours.port, async (i) => sessions[i] != null && (await ours.side.verify(sessions[i]))),
  };
  const order = Object.keys(sides);
  const ratios = [];
  for (let round = 0; round < BURST_ROUNDS; round++) {
    const tickets = ours.side.reserve(count);
    sessions = [];
    await pool(count, 8, async (i) => {
      sessions[i] = await ours.side.login(tickets[i]);
    });
    const p99 = {};
    for (let k = 0; k < order.length; k++) {
      const name = order[(round + k) % order.length];
      p99[name] = await sides[name].burst(count);
    }
    ratios.push(p99.verify / p99.hello);
  }
  const [hello, floor, verify] = order.map((name) => sides[name].result());
  ctx.log(
    `verify burst at ${BURST_CONCURRENCY}, ${BURST_ROUNDS} rounds of ${count}: p99 ${fmt(verify.p99)} ms against hello ${fmt(hello.p99)} ms and the floor ${fmt(floor.p99)} ms; per round verify / hello ${ratios.map((r) => fmt(r, 2)).join(", ")}`,
  );
  return { concurrency: BURST_CONCURRENCY, rounds: BURST_ROUNDS, perRound: count, hello, floor, verify, roundRatios: ratios };
}

/**
 * One side of the burst: `fn` timed at the burst's concurrency, round after round, with the CPU
 * per request of the workerd processes under `pid`, wrangler's dev proxy (the one on `port`) apart.
 */
function side(pid, port, fn) {
  const samples = [];
  let failures = 0;
  let seconds = 0;
  let cpu = 0;
  let proxy = 0;
  return {
    /** One round; answers its p99. */
    async burst(count) {
      const c0 = workerdCPU(pid, port);
      const r = await timedSamples(count, BURST_CONCURRENCY, fn);
      const c1 = workerdCPU(pid, port);
      samples.push(...r.samples);
      failures += r.failures;
      seconds += r.seconds;
      cpu += c1.seconds - c0.seconds;
      proxy += c1.proxySeconds - c0.proxySeconds;
      return r.p99;
    },
    result() {
      const n = samples.length;
      return { ...summarize(samples), rps: n / seconds, failures, seconds, cpuMs: (cpu * 1000) / n, proxyCpuMs: (proxy * 1000) / n };
    },
  };
}
