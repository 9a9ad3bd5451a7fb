#!/usr/bin/env node
// `npm run bench [-- --scale 0.25 --no-doc --service DIR --label before|after --only PHASES]`:
// the benchmarks of docs/benchmarks.md, in one run on one machine (options in
// bench/lib/options.mjs). The phases, in order, each in bench/phases/:
//
// 1. sizes: the Worker bundle, the pages' scripts and catalogues.
// 2. ours up: the service, Hono's hello world and the design floor, each on its own `wrangler dev`; users.
// 3. latency: hello world, login and TOTP verify at 1, 8 and 32 clients.
// 4. burst: TOTP verifications alone at 32 clients against the hello world and the design floor, in rounds.
// 5. full logins, ours: password + TOTP at 8 clients, server CPU per login.
// 6. storm, ours: TOTP second steps while 8, then 32 clients log in nonstop.
// 7. beside the hash, ours: full logins against the service with a hash of one iteration.
// 8. the password hash alone: ours in workerd, the peer's in Node.
// 9. Better Auth with its default scrypt: full logins.
// 10. Better Auth with our PBKDF2 through its password hooks: full logins, storm;
//     then beside the hash: full logins against it with one iteration.
// 11. machine and versions; the tables go to docs/benchmarks.md.
//
// Only loopback traffic; every phase is bounded in count; one server side runs
// at a time, and every server is stopped at the end.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderComparison } from "./lib/compare.mjs";
import { workerdVersion } from "./lib/cpu.mjs";
import { readResults, writeBenchDoc } from "./lib/doc.mjs";
import { benchOptions, scaled } from "./lib/options.mjs";
import { runScript } from "./lib/processes.mjs";
import { render } from "./lib/render.mjs";
import { BENCH_ENV, describeService } from "./lib/service.mjs";
import { startBetterAuth } from "./phases/better-auth.mjs";
import { fullCount, fullLogins } from "./phases/full-logins.mjs";
import { hashCost } from "./phases/hash-cost.mjs";
import { LATENCY_CONCURRENCY, latency, latencyCounts } from "./phases/latency.mjs";
import { oursRest, peerRest } from "./phases/login-rest.mjs";
import { loginStorm, STORM_CLIENTS, stormVerifications } from "./phases/login-storm.mjs";
import { machineAndVersions } from "./phases/machine.mjs";
import { startOurs, stopOurs } from "./phases/ours.mjs";
import { sizes } from "./phases/sizes.mjs";
import { burstVerifications, verifyBurst } from "./phases/verify-burst.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg) => console.log(`bench: ${msg}`);

async function main(ctx) {
  const { opt, n } = ctx;
  const want = (p) => opt.only.has(p);
  const results = { label: opt.label, scale: opt.scale, args: opt.args, service: ctx.service, failures: 0 };
  log(`scale ${opt.scale}; service ${ctx.service.dir} at ${ctx.service.commit}; temporary state in ${ctx.tmp}`);

  if (want("sizes")) results.sizes = sizes(ctx);

  let workerd = "unknown";
  if (want("latency") || want("burst") || want("full") || want("storm")) {
    const lc = latencyCounts(n);
    const slots =
      (want("latency") ? LATENCY_CONCURRENCY.reduce((a, c) => a + lc.login[c], 0) : 0) +
      (want("burst") ? burstVerifications(n) : 0) +
      (want("full") ? fullCount(n) : 0) +
      (want("storm") ? STORM_CLIENTS.length * stormVerifications(n) : 0);
    const ours = await startOurs(ctx, slots);
    workerd = workerdVersion(ours.server.pid);
    if (want("latency")) results.latency = await latency(ctx, ours);
    if (want("burst")) results.burst = await verifyBurst(ctx, ours);
    if (want("full")) results.full = [await fullLogins(ctx, ours.side)];
    if (want("storm")) {
      results.storm = [];
      for (const c of STORM_CLIENTS) results.storm.push(await loginStorm(ctx, ours.side, c));
    }
    await stopOurs(ctx, ours);
  }

  if (want("full")) {
    results.rest = [await oursRest(ctx)];
    results.hash = await hashCost(ctx);
    const ba = await startBetterAuth(ctx, "scrypt", Math.min(fullCount(n), 32));
    results.full.push(await fullLogins(ctx, ba.side));
    await ctx.procs.stopAndWait(ba.server);
  }
  if (want("full") || want("storm")) {
    const ba = await startBetterAuth(ctx, "pbkdf2", Math.min(fullCount(n), 32));
    if (want("full")) results.full.push(await fullLogins(ctx, ba.side));
    if (want("storm")) {
      const ours = results.storm;
      results.storm = [];
      // Ours and the peer side by side, per storm size.
      for (const c of STORM_CLIENTS)
        results.storm.push(
          ours.find((r) => r.clients === c),
          await loginStorm(ctx, ba.side, c),
        );
    }
    await ctx.procs.stopAndWait(ba.server);
  }
  if (want("full")) results.rest.push(await peerRest(ctx));

  Object.assign(results, machineAndVersions(ctx, workerd));
  results.failures = countFailures(results);

  const md = render(results);
  console.log(md);
  const before = opt.label === "after" ? readResults("before") : null;
  if (before) console.log(`\n${renderComparison(before, results)}`);
  if (opt.writeDoc && opt.partial) log("--only ran part of the phases: docs/benchmarks.md left alone");
  else if (opt.writeDoc) {
    writeBenchDoc(opt.label, md, results);
    log(`wrote the ${opt.label === "before" ? '"before"' : "main"} section of docs/benchmarks.md`);
  }
  if (results.failures > 0) {
    console.error(`bench: ${results.failures} requests did not give the expected answer; the tables mark them`);
    process.exitCode = 1;
  }
}

function countFailures(r) {
  const rows = [
    ...(r.latency ?? []),
    ...(r.full ?? []),
    ...(r.rest ?? []),
    ...(r.burst ? [r.burst.hello, r.burst.floor, r.burst.verify].filter(Boolean) : []),
    ...(r.storm ?? []).flatMap((s) => [s.verify, s.storm]),
  ];
  return rows.reduce((a, x) => a + (x.failures ?? 0), 0);
}

await runScript({ name: "bench", minutes: 45, env: BENCH_ENV }, async ({ procs, tmp }) => {
  const opt = benchOptions(process.argv.slice(2), root);
  await main({ opt, root, env: BENCH_ENV, log, tmp, n: scaled(opt), service: describeService(opt.serviceDir), procs, ports: new Set() });
});
