// A burst of TOTP second steps alone against two floors: the same number of
// requests at the same concurrency to Hono's hello world, to the design's
// floor (bench/floor/: one Durable Object call and one D1 write, nothing else)
// and to POST /api/auth/verify, each with its server's CPU per request. The sessions
// are logged in before the burst, so nothing else runs on the server during it.
import { Client, pool } from "../../load/lib/client.mjs";
import { workerdCPU } from "../lib/cpu.mjs";
import { fmt, timed } from "../lib/measure.mjs";

export const BURST_CONCURRENCY = 32;
export const burstCount = (n) => n(96);

export async function verifyBurst(ctx, ours) {
  const count = burstCount(ctx.n);
  const tickets = ours.side.reserve(count);
  const sessions = [];
  await pool(count, 8, async (i) => {
    sessions[i] = await ours.side.login(tickets[i]);
  });
  const h = new Client(ours.helloBase);
  const f = new Client(ours.floorBase);
  const step = { method: "totp", code: "123456" };
  // A few requests first, so no side pays a cold start inside the burst.
  await pool(8, 4, () => h.get("/"));
  await pool(8, 4, () => f.post("/step", step));

  /** `fn` timed at the burst's concurrency, with the CPU per request of the workerd processes under `pid`. */
  const burst = async (pid, fn) => {
    const c0 = workerdCPU(pid).seconds;
    const r = await timed(count, BURST_CONCURRENCY, fn);
    return { ...r, cpuMs: ((workerdCPU(pid).seconds - c0) * 1000) / count };
  };
  const hello = await burst(ours.hello.pid, async () => (await h.get("/")).status === 200);
  const floor = await burst(ours.floor.pid, async () => (await f.post("/step", step)).status === 200);
  const verify = await burst(ours.server.pid, async (i) => sessions[i] != null && (await ours.side.verify(sessions[i])));
  ctx.log(`verify burst at ${BURST_CONCURRENCY}: p99 ${fmt(verify.p99)} ms against hello ${fmt(hello.p99)} ms and the floor ${fmt(floor.p99)} ms`);
  return { concurrency: BURST_CONCURRENCY, hello, floor, verify };
}
