// The password hash alone, each side on its own runtime, so the full-login
// table can show the hash's share of a login and, with what a login costs
// beside the hash (bench/phases/login-rest.mjs), a ratio built from the
// parts. Ours: the hash-cost Worker (bench/hash-cost/worker.ts, the
// service's chained PBKDF2) under the service's `wrangler dev`, with the
// workerd processes' CPU from /proc around the hashes, as for the logins.
// The peer: bench/better-auth/hash-cost.mjs in a Node process, with the same
// functions its server calls.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { freePort } from "../../load/lib/client.mjs";
import { workerdCPU } from "../lib/cpu.mjs";
import { fmt } from "../lib/measure.mjs";
import { startBenchWorker, waitForWrangler } from "../lib/service.mjs";

export const hashCount = (n) => n(24);
/** Hashes per request: the request's own cost is spread thin, and the Worker caps it at 50. */
const PER_REQUEST = 8;

export async function hashCost(ctx) {
  const count = hashCount(ctx.n);
  const iterations = ctx.service.passwordIterations;
  return {
    ours: await workerdHash(ctx, count, iterations),
    pbkdf2: nodeHash(ctx, "pbkdf2", count, iterations),
    scrypt: nodeHash(ctx, "scrypt", count, iterations),
  };
}

async function workerdHash(ctx, count, iterations) {
  const port = await freePort(ctx.ports);
  ctx.ports.add(port);
  const worker = startBenchWorker(ctx, join(ctx.root, "bench", "hash-cost", "wrangler.toml"), port, join(ctx.tmp, "hash-cost"));
  const base = `http://localhost:${port}`;
  const url = (n) => `${base}/?alg=pbkdf2-chain&iterations=${iterations}&n=${n}`;
  try {
    await waitForWrangler(`${base}/?alg=noop`, 200, worker);
    const warm = await fetch(url(1));
    if (warm.status !== 200) throw new Error(`hash-cost Worker: ${warm.status} ${await warm.text()}`);
    const c0 = workerdCPU(worker.pid).seconds;
    let done = 0;
    let insideMs = 0;
    while (done < count) {
      const n = Math.min(PER_REQUEST, count - done);
      const res = await fetch(url(n), { signal: AbortSignal.timeout(120_000) });
      const body = await res.json();
      if (res.status !== 200) throw new Error(`hash-cost Worker: ${res.status} ${JSON.stringify(body)}`);
      insideMs += body.perfMs * n;
      done += n;
    }
    const cpuMs = ((workerdCPU(worker.pid).seconds - c0) * 1000) / count;
    ctx.log(`our hash alone in workerd: ${fmt(cpuMs)} ms CPU per hash`);
    return { n: count, cpuMs, insideMs: insideMs / count };
  } finally {
    await ctx.procs.stopAndWait(worker);
  }
}

function nodeHash(ctx, hash, count, iterations) {
  const out = execFileSync(process.execPath, [join(ctx.root, "bench", "better-auth", "hash-cost.mjs"), "--hash", hash, "--n", String(count)], {
    cwd: ctx.root,
    env: { ...ctx.env, PBKDF2_ITERATIONS: String(iterations) },
    encoding: "utf8",
  });
  const r = JSON.parse(out.trim().split("\n").pop());
  ctx.log(`${hash} alone in Node: ${fmt(r.cpuMs)} ms CPU per hash`);
  return r;
}
