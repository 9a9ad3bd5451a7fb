// The servers a benchmark run starts: each in its own process group, so one
// signal stops a server with everything it started (wrangler's workerd).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

export class Processes {
  constructor(env) {
    this.env = env;
    this.children = [];
  }

  start(cmd, args, { cwd, env = {} }) {
    const child = spawn(cmd, args, { cwd, env: { ...this.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.logText = "";
    const keep = (d) => {
      child.logText = (child.logText + d).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    this.children.push(child);
    return child;
  }

  stop(child) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  }

  /** Stops `child` and waits (at most 15 s) until it is gone, so the next phase has the machine to itself. */
  async stopAndWait(child) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    this.stop(child);
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  }

  stopAll() {
    for (const child of this.children) this.stop(child);
  }
}

/** Polls `url` until it answers `okStatus`; fails with the server's log tail. */
export async function waitFor(url, okStatus, child, seconds = 120) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (res.status === okStatus) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not come up\n${child.logText.slice(-4000)}`);
}

/**
 * Runs a benchmark script: `start({ procs, tmp })` gets the servers' process list and a temporary
 * directory, both cleaned up however the script ends, and the whole run is bounded to `minutes`,
 * so a stuck phase ends it instead of hanging.
 */
export async function runScript({ name, minutes, env }, start) {
  const procs = new Processes(env);
  const tmp = mkdtempSync(join(os.tmpdir(), `edge-2fa-${name.replace(/\W/g, "-")}-`));
  process.on("exit", () => {
    procs.stopAll();
    rmSync(tmp, { recursive: true, force: true });
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
  setTimeout(() => {
    console.error(`${name}: took longer than ${minutes} minutes, giving up`);
    process.exit(1);
  }, minutes * 60_000).unref();
  try {
    await start({ procs, tmp });
  } catch (err) {
    console.error(`${name}: ${err.stack ?? err}`);
    process.exitCode = 1;
  } finally {
    procs.stopAll();
  }
}
