// Full logins (password, then TOTP) at 8 concurrent clients on one side, with
// the server's CPU per login from /proc before and after.
import { fmt, timed } from "../lib/measure.mjs";

export const FULL_CONCURRENCY = 8;
export const fullCount = (n) => n(96);

export async function fullLogins(ctx, side) {
  const count = fullCount(ctx.n);
  const tickets = side.reserve(count);
  const cpu0 = side.cpuSeconds();
  const tree0 = side.treeCpuSeconds();
  const proxy0 = side.proxyCpuSeconds();
  const run = await timed(count, FULL_CONCURRENCY, async (i) => {
    const s = await side.login(tickets[i]);
    return s !== null && (await side.verify(s));
  });
  const cpuPerLoginMs = ((side.cpuSeconds() - cpu0) * 1000) / count;
  const treeCpuPerLoginMs = ((side.treeCpuSeconds() - tree0) * 1000) / count;
  const proxyCpuPerLoginMs = ((side.proxyCpuSeconds() - proxy0) * 1000) / count;
  ctx.log(`${side.name}: ${fmt(run.rps)} full logins/s, ${fmt(cpuPerLoginMs)} ms server CPU per login`);
  return {
    key: side.key,
    name: side.name,
    hash: side.hash,
    concurrency: FULL_CONCURRENCY,
    ...run,
    cpuPerLoginMs,
    treeCpuPerLoginMs,
    proxyCpuPerLoginMs,
    cpuOf: side.cpuOf(),
  };
}
