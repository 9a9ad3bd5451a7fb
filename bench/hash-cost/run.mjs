#!/usr/bin/env node
// `node bench/hash-cost/run.mjs [--port 8810] [--n 5]`: the cost of each password-hash
// candidate inside workerd under `wrangler dev` (docs/passwords.md records the numbers).
//
// Starts bench/hash-cost/worker.ts with wrangler dev on a loopback port, warms each
// candidate up once, then times N hashes of each: inside the Worker
// (performance.now() and Date.now() around the loop) and from outside (the
// request's wall time divided by N, minus a no-op request's). Prints a table and
// JSON; stops the server at the end.
import { spawn } from "node:child_process";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_ENV } from "../lib/service.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const PORT = Number(arg("port", "8810"));
const N = Number(arg("n", "5"));
const CANDIDATES = ["pbkdf2-100k", "pbkdf2-6x100k", "argon2id-m19MiB-t2-p1", "scrypt-N2^14-r8-p5", "scrypt-N2^17-r8-p1"];
const base = `http://127.0.0.1:${PORT}`;

const wrangler = join(root, "node_modules", ".bin", "wrangler");
const server = spawn(wrangler, ["dev", "--config", join(here, "wrangler.toml"), "--port", String(PORT), "--ip", "127.0.0.1", "--log-level", "warn"], {
  cwd: root,
  // Without wrangler dev's local trace collector, as every benchmark server (bench/lib/service.mjs).
  env: BENCH_ENV,
  stdio: ["ignore", "pipe", "pipe"],
  detached: true,
});
let log = "";
server.stdout.on("data", (d) => {
  log += d;
});
server.stderr.on("data", (d) => {
  log += d;
});
const stop = () => {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
};
process.on("exit", stop);
process.on("SIGINT", () => process.exit(130));

async function waitUp() {
  for (let i = 0; i < 120; i++) {
    try {
      const res = await fetch(`${base}/?alg=noop`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler dev did not start on ${PORT}:\n${log}`);
}

async function time(alg, n) {
  const t0 = performance.now();
  const res = await fetch(`${base}/?alg=${encodeURIComponent(alg)}&n=${n}`);
  const wall = performance.now() - t0;
  const body = await res.json();
  return { ...body, wallMs: wall / n, status: res.status };
}

await waitUp();
const noop = await time("noop", 1);
const rows = [];
for (const alg of CANDIDATES) {
  const warm = await time(alg, 1);
  if (warm.status !== 200) {
    rows.push({ alg, error: warm.error ?? `HTTP ${warm.status}` });
    continue;
  }
  const r = await time(alg, N);
  rows.push({
    alg,
    n: N,
    workerPerfMs: Number(r.perfMs.toFixed(1)),
    workerDateMs: Number(r.dateMs.toFixed(1)),
    outsideMs: Number((r.wallMs - noop.wallMs / N).toFixed(1)),
  });
}
const versions = (await import("node:child_process")).execFileSync(wrangler, ["--version"], { cwd: root, encoding: "utf8" }).trim().split("\n").pop();
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, wrangler: versions, date: new Date().toISOString() };
console.log(`machine: ${JSON.stringify(machine)}`);
console.log("candidate                  | ms/hash (outside) | performance.now in Worker | Date.now in Worker");
for (const r of rows) {
  if (r.error) console.log(`${r.alg.padEnd(26)} | failed: ${r.error}`);
  else
    console.log(`${r.alg.padEnd(26)} | ${String(r.outsideMs).padStart(17)} | ${String(r.workerPerfMs).padStart(25)} | ${String(r.workerDateMs).padStart(18)}`);
}
console.log(JSON.stringify({ machine, rows }));
stop();
process.exit(0);
