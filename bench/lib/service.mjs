// The service under measurement: this checkout, or another one given with
// --service DIR (an older commit for a before/after comparison). Everything
// that belongs to the service (its scripts, its wrangler and workerd, its
// configuration) comes from that directory; the peer, the floor and the
// benchmark itself come from this checkout.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { workerdCPU } from "./cpu.mjs";
import { waitFor } from "./processes.mjs";

// X_LOCAL_OBSERVABILITY=false: wrangler dev's local trace collector (on by default) runs in the
// same workerd process as the Workers it traces and is handed every span: about 1 ms of CPU per
// request for the hello world and several for a request that crosses a Durable Object and D1,
// a development tool's cost that no deployed Worker pays. Every server a benchmark script
// starts runs without it (docs/benchmarks.md "What the bench leaves out").
export const BENCH_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", X_LOCAL_OBSERVABILITY: "false" };

export function describeService(dir) {
  const git = (...args) => {
    try {
      return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const toml = readFileSync(join(dir, "wrangler.toml"), "utf8");
  return {
    dir,
    wrangler: join(dir, "node_modules", ".bin", "wrangler"),
    commit: git("rev-parse", "--short", "HEAD") || "unknown",
    subject: git("log", "-1", "--format=%s"),
    /** Uncommitted changes to what the service is built from. */
    dirty: git("status", "--porcelain", "--", "src", "public", "migrations", "wrangler.toml", "package.json") !== "",
    passwordIterations: Number((toml.match(/PASSWORD_ITERATIONS\s*=\s*"(\d+)"/) ?? [])[1] ?? 600_000),
  };
}

/** The version of an npm package as installed under `dir`. */
export function packageVersion(dir, name) {
  try {
    return JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/**
 * `npm start` of the service on `port` with its state in `persistTo`; `extraArgs` go on to
 * `wrangler dev` (scripts/start.mjs passes on what it does not know), e.g. `--var NAME:VALUE`.
 */
export function startService(ctx, port, persistTo, extraArgs = []) {
  const { dir } = ctx.service;
  return ctx.procs.start(process.execPath, [join(dir, "scripts", "start.mjs"), "--port", String(port), "--persist-to", persistTo, ...extraArgs], {
    cwd: dir,
  });
}

/**
 * A Worker of the benchmark (the hello world, the design floor, the hash-cost Worker) under the
 * service's own `wrangler dev`, so both run on the same runtime version. With `d1Migrations`, its
 * D1 database (binding DB) gets its migrations first, as `npm start` does for the service.
 */
export function startBenchWorker(ctx, config, port, persistTo, { d1Migrations = false } = {}) {
  if (d1Migrations) {
    const applied = spawnSync(ctx.service.wrangler, ["d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", persistTo], {
      cwd: ctx.root,
      env: ctx.procs.env,
      encoding: "utf8",
    });
    if (applied.status !== 0) throw new Error(`migrations for ${config} failed\n${applied.stdout}${applied.stderr}`);
  }
  return ctx.procs.start(
    ctx.service.wrangler,
    ["dev", "-c", config, "--port", String(port), "--show-interactive-dev-session=false", "--persist-to", persistTo],
    { cwd: ctx.root },
  );
}

/**
 * `waitFor` for a `wrangler dev` (of the service or of a bench Worker) started as `child`: the answer
 * counts only once that wrangler runs a `workerd` of its own. Other checkouts on the machine run
 * benchmarks and load tests in the same port range; one can take the port between `freePort`'s
 * check and wrangler's bind, and answer while `npm start` is still building pages, so the phase
 * would measure someone else's server (and find none of its CPU).
 */
export async function waitForWrangler(url, okStatus, child) {
  await waitFor(url, okStatus, child);
  const ours = workerdCPU(child.pid).processes.some((p) => p.comm.startsWith("workerd"));
  if (!ours) throw new Error(`${url} answered before its wrangler dev ran workerd: another process holds that port; run again`);
}
