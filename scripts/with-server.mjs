#!/usr/bin/env node
// Runs a command against a freshly started service: `node scripts/with-server.mjs CMD ARGS…`.
// Starts `scripts/start.mjs` on a free port with its own state directory, waits
// until the API answers, runs the command with BASE_URL set, then stops the
// server. Used by the browser tests, the load test and the benchmarks.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
const state = mkdtempSync(join(tmpdir(), "edge-2fa-state-"));
const base = `http://localhost:${port}`;
const server = spawn(process.execPath, [join(root, "scripts", "start.mjs"), "--port", String(port), "--persist-to", state], {
  cwd: root,
  env: { ...process.env, ...(process.env.SERVER_VARS ? {} : {}) },
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

function stop() {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
  rmSync(state, { recursive: true, force: true });
}
process.on("SIGINT", () => {
  stop();
  process.exit(130);
});

const deadline = Date.now() + 120_000;
let ready = false;
while (Date.now() < deadline) {
  if (server.exitCode !== null) break;
  try {
    const res = await fetch(`${base}/api/me`);
    if (res.status === 401) {
      ready = true;
      break;
    }
  } catch {}
  await new Promise((r) => setTimeout(r, 500));
}
if (!ready) {
  console.error(`with-server: the service did not start on ${base}\n${log.slice(-4000)}`);
  stop();
  process.exit(1);
}

const [cmd, ...cmdArgs] = process.argv.slice(2);
const child = spawn(cmd, cmdArgs, { cwd: root, env: { ...process.env, BASE_URL: base, SERVER_STATE: state }, stdio: "inherit" });
child.on("exit", (code) => {
  if (code !== 0 && process.env.SHOW_SERVER_LOG !== "0") console.error(`--- server log (tail) ---\n${log.slice(-6000)}`);
  stop();
  process.exit(code ?? 1);
});
