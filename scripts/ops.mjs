#!/usr/bin/env node
// `npm run ops -- reset-2fa EMAIL [--url URL]`: the service's operator resets a
// user's two-factor authentication (POST /api/ops/reset-2fa) and prints the
// single-use recovery code and its expiry. The token comes from OPS_TOKEN in
// the environment, else from .dev.vars. Read docs/deploy.md "Operator
// recovery" first: verify the person before you run this.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const usage = "usage: npm run ops -- reset-2fa EMAIL [--url URL]   (token: OPS_TOKEN in the environment or .dev.vars)";

function fail(message, code = 1) {
  console.error(`ops: ${message}`);
  process.exit(code);
}

/** OPS_TOKEN="…" or OPS_TOKEN=… in a dotenv-style file; null when absent. */
export function tokenFromDevVars(text) {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*OPS_TOKEN\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))\s*$/.exec(line);
    if (m) return m[1] ?? m[2] ?? m[3] ?? null;
  }
  return null;
}

export function parseArgs(argv) {
  const positional = [];
  let url = "http://localhost:8787";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--url") url = argv[++i] ?? "";
    else if (a.startsWith("--url=")) url = a.slice(6);
    else if (a === "--help" || a === "-h") return { help: true };
    else positional.push(a);
  }
  const [command, email, ...extra] = positional;
  return { command, email, url, extra };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) return console.log(usage);
  if (args.command !== "reset-2fa" || !args.email || args.extra.length > 0) fail(usage, 2);
  let base;
  try {
    base = new URL(args.url);
  } catch {
    fail(`not a URL: ${args.url}`, 2);
  }
  // The token is the key to every account's recovery: it never crosses a network in clear text.
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(base.hostname);
  if (base.protocol !== "https:" && !local) fail("refusing to send the operator token over plain http to a remote host; use https://", 2);
  const devVars = join(root, ".dev.vars");
  const token = process.env.OPS_TOKEN || (existsSync(devVars) ? tokenFromDevVars(readFileSync(devVars, "utf8")) : null);
  if (!token) fail("no OPS_TOKEN in the environment or in .dev.vars", 2);

  const res = await fetch(new URL("/api/ops/reset-2fa", base), {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ email: args.email }),
  });
  const body = await res.json().catch(() => null);
  if (res.status !== 200) {
    const why = body?.detail ?? body?.title ?? res.statusText;
    const hint =
      res.status === 404 && body?.code === "not_found" && /endpoint/.test(why ?? "")
        ? " (is OPS_TOKEN set on the Worker? see docs/deploy.md)"
        : res.status === 429
          ? ` (retry after ${res.headers.get("Retry-After") ?? "?"} s)`
          : "";
    fail(`${res.status} ${body?.code ?? ""}: ${why}${hint}`);
  }
  console.log(`Two-factor authentication of ${args.email} was reset. The user was emailed.`);
  console.log(`Recovery code (single use): ${body.recoveryCode}`);
  console.log(`Expires: ${body.expiresAt}`);
  console.log("Give it to the person only through the channel you verified them on.");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
