#!/usr/bin/env node
// `npm start [-- --port N] [-- --persist-to DIR]`: everything a fresh clone needs
// to serve the whole service locally: dev secrets, page bundles, D1 migrations,
// then `wrangler dev` (local D1, Durable Objects and email).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
let port = "8787";
let persist = null;
const rest = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === "--port") port = args[++i];
  else if (a.startsWith("--port=")) port = a.slice(7);
  else if (a === "--persist-to") persist = args[++i];
  else if (a.startsWith("--persist-to=")) persist = a.slice(13);
  else rest.push(a);
}

const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const persistArgs = persist ? ["--persist-to", persist] : [];

if (!existsSync(join(root, ".dev.vars"))) {
  copyFileSync(join(root, ".dev.vars.example"), join(root, ".dev.vars"));
  console.log("start: created .dev.vars from .dev.vars.example (local-only keys)");
}

function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, env, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, [join(root, "scripts", "build-pages.mjs")]);
run(wrangler, ["d1", "migrations", "apply", "DB", "--local", ...persistArgs]);

const child = spawn(wrangler, ["dev", "--port", port, "--show-interactive-dev-session=false", ...persistArgs, ...rest], { cwd: root, env, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
