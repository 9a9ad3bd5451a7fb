#!/usr/bin/env node
// `npm run bench [-- --scale 0.25]`: the benchmarks of docs/benchmarks.md, in one run on one machine.
//
// 1. Latency and throughput of `/api/auth/login` and `/api/auth/verify` (TOTP)
//    against Hono's hello world (bench/hello), both under `wrangler dev`, at 1, 8
//    and 32 concurrent clients.
// 2. Full logins (password + TOTP) per second and server CPU per login, ours
//    against Better Auth with its twoFactor plugin on Node and SQLite
//    (bench/better-auth), at 8 concurrent clients.
// 3. The Worker bundle (gzip) and the pages' scripts (gzip).
// The table goes into docs/benchmarks.md between the bench markers. Only
// loopback traffic; every phase is bounded in count; servers are stopped at the end.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { Client, expect, freePort, newTOTPUser, PASSWORD, pool, stepOf, summarize, totpCode } from "../load/lib/client.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const scaleArg = argv.find((a) => a.startsWith("--scale"));
const SCALE = scaleArg ? Number(scaleArg.includes("=") ? scaleArg.split("=")[1] : argv[argv.indexOf(scaleArg) + 1]) : 1;
const WRITE_DOC = !argv.includes("--no-doc");
const n = (full, min = 4) => Math.max(min, Math.round(full * SCALE));
const CONCURRENCY = [1, 8, 32];
/** Requests per concurrency level; logins cost a 600,000-iteration PBKDF2 each, so fewer of them. */
const HELLO_COUNT = { 1: n(400), 8: n(1600), 32: n(3200) };
const LOGIN_COUNT = { 1: n(24), 8: n(64), 32: n(96) };
const FULL_LOGINS = n(96);
const FULL_CONCURRENCY = 8;
const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
const children = [];
const tmp = mkdtempSync(join(os.tmpdir(), "edge-2fa-bench-"));

function log(msg) {
  console.log(`bench: ${msg}`);
}

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
  }
}
process.on("exit", () => {
  stopAll();
  rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
// The whole run is bounded: a stuck phase ends it instead of hanging.
setTimeout(() => {
  console.error("bench: took longer than 20 minutes, giving up");
  process.exit(1);
}, 20 * 60_000).unref();

// ---- ports and processes ------------------------------------------------

function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: root, env: { ...env, ...(opts.env ?? {}) }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.logText = "";
  child.stdout.on("data", (d) => {
    child.logText = (child.logText + d).slice(-20_000);
  });
  child.stderr.on("data", (d) => {
    child.logText = (child.logText + d).slice(-20_000);
  });
  children.push(child);
  return child;
}

function stop(child) {
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
}

async function waitFor(url, okStatus, child, seconds = 120) {
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

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function processTable() {
  const table = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name is in parentheses and may contain spaces: parse after the last ')'.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      table.push({ pid: Number(name), comm, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {}
  }
  return table;
}

/** CPU seconds (user + system) of the processes under `pid` whose name matches. */
function treeCPU(pid, match = () => true) {
  const table = processTable();
  const children = new Map();
  for (const p of table) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p);
  }
  let ticks = 0;
  const stack = table.filter((p) => p.pid === pid);
  const seen = [];
  while (stack.length) {
    const p = stack.pop();
    seen.push(p);
    if (match(p)) ticks += p.ticks;
    stack.push(...(children.get(p.pid) ?? []));
  }
  return { seconds: ticks / CLK_TCK, processes: seen };
}

// ---- better-sqlite3 for the Node that runs this --------------------------

/**
 * npm builds better-sqlite3 against the headers npm is configured with (on
 * these machines the system Node's), while `npm run` puts the project's Node 22
 * first on PATH. When the addon does not load here, rebuild it once against this
 * Node's own headers (from the `node-<platform>-<arch>` package of the npm
 * registry when they are not already on disk).
 */
function ensureBetterSqlite() {
  const probe = () =>
    spawnSync(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: root, encoding: "utf8" });
  let r = probe();
  if (r.status === 0) return;
  if (!/NODE_MODULE_VERSION|was compiled against/.test(r.stderr)) throw new Error(`better-sqlite3 does not load: ${r.stderr.slice(0, 2000)}`);
  const version = process.version.slice(1);
  const pkg = `node-${process.platform}-${process.arch}`;
  const hasHeaders = (dir) => {
    try {
      return readFileSync(join(dir, "include", "node", "node_version.h"), "utf8").includes(`#define NODE_MAJOR_VERSION ${process.versions.node.split(".")[0]}`);
    } catch {
      return false;
    }
  };
  const cache = join(root, "node_modules", ".cache", "bench-node");
  const candidates = [join(dirname(process.execPath), ".."), join(root, "node_modules", "node", "node_modules", pkg), join(cache, "node_modules", pkg)];
  let nodedir = candidates.find(hasHeaders);
  if (!nodedir) {
    log(`fetching Node ${version} headers (npm package ${pkg}) to build better-sqlite3 for this Node`);
    mkdirSync(cache, { recursive: true });
    const npm = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--ignore-scripts", "--prefix", cache, `${pkg}@${version}`], {
      cwd: cache,
      stdio: "inherit",
      env,
    });
    if (npm.status !== 0) throw new Error("could not install Node headers");
    nodedir = join(cache, "node_modules", pkg);
  }
  const gypCandidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.env.npm_execpath ?? ""), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
    "/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js",
  ].filter((p) => p && existsSync(p));
  if (!gypCandidates[0]) throw new Error("node-gyp not found (it ships with npm)");
  log(`building better-sqlite3 for Node ${version} (once; about two minutes)`);
  const build = spawnSync(process.execPath, [gypCandidates[0], "rebuild", "--release", `--nodedir=${nodedir}`], {
    cwd: join(root, "node_modules", "better-sqlite3"),
    env: { ...env, npm_config_nodedir: nodedir },
    encoding: "utf8",
  });
  if (build.status !== 0) throw new Error(`better-sqlite3 build failed:\n${(build.stdout + build.stderr).slice(-3000)}`);
  r = probe();
  if (r.status !== 0) throw new Error(`better-sqlite3 still does not load: ${r.stderr.slice(0, 2000)}`);
}

// ---- measurement ---------------------------------------------------------

async function timed(count, concurrency, fn) {
  const samples = [];
  let failures = 0;
  const t0 = performance.now();
  await pool(count, concurrency, async (i) => {
    const s = performance.now();
    const ok = await fn(i);
    samples.push(performance.now() - s);
    if (!ok) failures += 1;
  });
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarize(samples), rps: count / seconds, failures, seconds };
}

function fmt(x, digits = 1) {
  return Number.isFinite(x) ? x.toFixed(digits) : "n/a";
}

/** A client for Better Auth: a general cookie jar and its Origin check satisfied. */
class JarClient {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  async post(path, body) {
    const headers = { "Content-Type": "application/json", Origin: this.base };
    if (this.jar.size) headers.Cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(this.base + path, { method: "POST", headers, body: JSON.stringify(body ?? {}), signal: AbortSignal.timeout(30_000) });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === "";
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: json };
  }
}

function secretFromURI(uri) {
  return new URL(uri).searchParams.get("secret");
}

// ---- the run -------------------------------------------------------------

async function main() {
  const used = new Set();
  const results = {};
  log(`scale ${SCALE}; temporary state in ${tmp}`);

  // Build the pages' scripts first: their size is measured and `npm start` would build them anyway.
  execFileSync(process.execPath, [join(root, "scripts", "build-pages.mjs")], { cwd: root, env, stdio: "inherit" });

  // -- sizes
  const outdir = join(tmp, "bundle");
  execFileSync(join(root, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], { cwd: root, env, stdio: "pipe" });
  const sizeOf = (files) => files.reduce((acc, f) => acc + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const rawOf = (files) => files.reduce((acc, f) => acc + statSync(f).size, 0);
  const walk = (dir, ext) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name), ext) : e.name.endsWith(ext) ? [join(dir, e.name)] : [],
    );
  const bundleFiles = walk(outdir, ".js");
  const pageFiles = walk(join(root, "public", "assets"), ".js");
  // The pages' words are data beside the scripts: one catalogue per language, and a page loads one.
  const catalogueFiles = walk(join(root, "public", "assets", "i18n"), ".json");
  const largest = Math.max(...catalogueFiles.map((f) => sizeOf([f])));
  results.sizes = {
    worker: { raw: rawOf(bundleFiles), gzip: sizeOf(bundleFiles), files: bundleFiles.map((f) => relative(outdir, f)) },
    pages: { raw: rawOf(pageFiles), gzip: sizeOf(pageFiles), files: pageFiles.map((f) => relative(root, f)) },
    catalogues: { raw: rawOf(catalogueFiles), gzip: sizeOf(catalogueFiles), largest, files: catalogueFiles.map((f) => relative(root, f)) },
  };
  log(`worker bundle ${results.sizes.worker.gzip} B gzip, pages' scripts ${results.sizes.pages.gzip} B gzip, largest catalogue ${largest} B gzip`);

  // -- servers: the service and the hello world, each on its own wrangler dev
  const ourPort = await freePort(used);
  used.add(ourPort);
  const ours = start(process.execPath, [join(root, "scripts", "start.mjs"), "--port", String(ourPort), "--persist-to", join(tmp, "ours")]);
  const helloPort = await freePort(used);
  used.add(helloPort);
  const hello = start(join(root, "node_modules", ".bin", "wrangler"), [
    "dev",
    "-c",
    join(root, "bench", "hello", "wrangler.toml"),
    "--port",
    String(helloPort),
    "--show-interactive-dev-session=false",
    "--persist-to",
    join(tmp, "hello"),
  ]);
  const base = `http://localhost:${ourPort}`;
  const helloBase = `http://localhost:${helloPort}`;
  await waitFor(`${base}/api/me`, 401, ours);
  await waitFor(`${helloBase}/`, 200, hello);
  log(`service on ${base}, hello world on ${helloBase}`);

  // -- users: each with several authenticator apps, so every successful TOTP
  // verification can use an app whose current step is still unused (a step is
  // accepted once per app) without waiting for the clock.
  const totalLogins = CONCURRENCY.reduce((a, c) => a + LOGIN_COUNT[c], 0);
  const APPS = 8;
  const USERS = Math.max(8, Math.ceil((totalLogins + FULL_LOGINS) / APPS) + 2);
  log(`setting up ${USERS} users with ${APPS} authenticator apps each`);
  const users = [];
  await pool(USERS, 4, async (i) => {
    users[i] = await newTOTPUser(base, { prefix: `bench${i}`, extraApps: APPS - 1 });
  });
  const slots = users.flatMap((u) => u.apps.map((app) => ({ user: u, app })));
  let nextSlot = 0;
  const takeSlot = () => {
    const s = slots[nextSlot++];
    if (!s) throw new Error("out of TOTP slots");
    return s;
  };

  // -- latency at 1, 8, 32 clients: hello world, login, verify
  results.latency = [];
  for (const c of CONCURRENCY) {
    const h = new Client(helloBase);
    const helloRun = await timed(HELLO_COUNT[c], c, async () => (await h.get("/")).status === 200);
    results.latency.push({ endpoint: "hello world (GET /)", concurrency: c, ...helloRun });

    // Logins spread over users (at most a few in flight per email, under its throttle),
    // each from its own client address; every one leaves a second-factor session.
    const count = LOGIN_COUNT[c];
    const pending = [];
    const loginSlots = Array.from({ length: count }, () => takeSlot());
    const loginRun = await timed(count, c, async (i) => {
      const { user, app } = loginSlots[i];
      const client = new Client(base);
      const r = await client.post("/api/auth/login", { email: user.email, password: PASSWORD });
      if (r.status !== 200 || r.body?.status !== "second_factor_required") return false;
      pending[i] = { client, app };
      return true;
    });
    results.latency.push({ endpoint: "POST /api/auth/login", concurrency: c, ...loginRun });

    const verifyRun = await timed(count, c, async (i) => {
      const p = pending[i];
      if (!p) return false;
      const step = stepOf();
      if (step <= p.app.lastStep) return false;
      const r = await p.client.post("/api/auth/verify", { method: "totp", code: totpCode(p.app.secret) });
      p.app.lastStep = step;
      return r.status === 200 && r.body?.status === "authenticated";
    });
    results.latency.push({ endpoint: "POST /api/auth/verify (TOTP)", concurrency: c, ...verifyRun });
    log(`concurrency ${c}: hello ${fmt(helloRun.rps, 0)}/s, login ${fmt(loginRun.rps)}/s, verify ${fmt(verifyRun.rps)}/s`);
  }

  // -- full logins: ours
  const workerdOf = (pid) => treeCPU(pid, (p) => p.comm.startsWith("workerd"));
  const oursFullSlots = Array.from({ length: FULL_LOGINS }, () => takeSlot());
  const cpu0 = workerdOf(ours.pid);
  const all0 = treeCPU(ours.pid);
  const oursFull = await timed(FULL_LOGINS, FULL_CONCURRENCY, async (i) => {
    const { user, app } = oursFullSlots[i];
    const client = new Client(base);
    const r = await client.post("/api/auth/login", { email: user.email, password: PASSWORD });
    if (r.status !== 200) return false;
    const step = stepOf();
    if (step <= app.lastStep) return false;
    const v = await client.post("/api/auth/verify", { method: "totp", code: totpCode(app.secret) });
    app.lastStep = step;
    return v.status === 200;
  });
  const cpu1 = workerdOf(ours.pid);
  const all1 = treeCPU(ours.pid);
  const workerdProcesses = cpu1.processes.filter((p) => p.comm.startsWith("workerd")).length;
  results.oursFull = {
    ...oursFull,
    cpuPerLoginMs: ((cpu1.seconds - cpu0.seconds) * 1000) / FULL_LOGINS,
    treeCpuPerLoginMs: ((all1.seconds - all0.seconds) * 1000) / FULL_LOGINS,
    workerdProcesses,
  };
  const workerdExe = cpu1.processes.find((p) => p.comm.startsWith("workerd"));
  let workerdVersion = "unknown";
  if (workerdExe) {
    try {
      workerdVersion = execFileSync(`/proc/${workerdExe.pid}/exe`, ["--version"])
        .toString()
        .trim()
        .replace(/^workerd /, "");
    } catch {}
  }
  stop(ours);
  stop(hello);
  log(`ours: ${fmt(oursFull.rps)} full logins/s, ${fmt(results.oursFull.cpuPerLoginMs)} ms workerd CPU per login`);

  // -- full logins: Better Auth
  ensureBetterSqlite();
  const baPort = await freePort(used);
  used.add(baPort);
  const ba = start(process.execPath, [join(root, "bench", "better-auth", "server.mjs")], {
    env: { PORT: String(baPort), DB: join(tmp, "better-auth.sqlite"), NODE_ENV: "production" },
  });
  const baBase = `http://127.0.0.1:${baPort}`;
  await waitFor(`${baBase}/api/auth/ok`, 200, ba);
  const baUsers = [];
  await pool(Math.min(FULL_LOGINS, 32), 4, async (i) => {
    const c = new JarClient(baBase);
    const email = `ba-${i}-${Date.now()}@example.com`;
    expect(await c.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Bench" }), 200, "better-auth sign-up");
    const en = expect(await c.post("/api/auth/two-factor/enable", { password: PASSWORD }), 200, "better-auth enable 2FA");
    const secret = secretFromURI(en.body.totpURI);
    expect(await c.post("/api/auth/two-factor/verify-totp", { code: totpCode(secret) }), 200, "better-auth confirm TOTP");
    baUsers[i] = { email, secret };
  });
  const ba0 = treeCPU(ba.pid);
  const baFull = await timed(FULL_LOGINS, FULL_CONCURRENCY, async (i) => {
    const u = baUsers[i % baUsers.length];
    const c = new JarClient(baBase);
    const r = await c.post("/api/auth/sign-in/email", { email: u.email, password: PASSWORD });
    if (r.status !== 200 || !r.body?.twoFactorRedirect) return false;
    const v = await c.post("/api/auth/two-factor/verify-totp", { code: totpCode(u.secret) });
    return v.status === 200 && typeof v.body?.token === "string" && [...c.jar.keys()].some((k) => k.endsWith("session_token"));
  });
  const ba1 = treeCPU(ba.pid);
  results.baFull = { ...baFull, cpuPerLoginMs: ((ba1.seconds - ba0.seconds) * 1000) / FULL_LOGINS };
  stop(ba);
  log(`better-auth: ${fmt(baFull.rps)} full logins/s, ${fmt(results.baFull.cpuPerLoginMs)} ms node CPU per login`);

  const failures = results.latency.reduce((a, r) => a + r.failures, 0) + oursFull.failures + baFull.failures;

  // -- versions and machine
  const pkgVersion = (name) => {
    try {
      return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return "unknown";
    }
  };
  const cpuModel = (readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model ?? "unknown";
  const machine = {
    nproc: execFileSync("nproc").toString().trim(),
    cpuModel,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: os.release(),
    date: new Date().toISOString(),
  };
  const versions = {
    node: process.version,
    wrangler: pkgVersion("wrangler"),
    workerd: workerdVersion,
    hono: pkgVersion("hono"),
    "better-auth": pkgVersion("better-auth"),
    "better-sqlite3": pkgVersion("better-sqlite3"),
  };
  const passwordIterations = (readFileSync(join(root, "wrangler.toml"), "utf8").match(/PASSWORD_ITERATIONS\s*=\s*"(\d+)"/) ?? [])[1] ?? "600000";

  const md = render({ results, machine, versions, passwordIterations, failures });
  console.log(md);
  if (WRITE_DOC) writeDoc(md);
  if (failures > 0) {
    console.error(`bench: ${failures} requests did not give the expected answer; the table marks them`);
    process.exit(1);
  }
}

function render({ results, machine, versions, passwordIterations, failures }) {
  const L = [];
  const hello = (c) => results.latency.find((r) => r.endpoint.startsWith("hello") && r.concurrency === c);
  L.push(`Measured ${machine.date} with \`npm run bench\`${SCALE !== 1 ? ` (scale ${SCALE})` : ""}.`, "");
  L.push("### Latency and throughput under `wrangler dev`", "");
  L.push("| endpoint | clients | requests | p50 ms | p95 ms | p99 ms | req/s | p50 / hello p50 | req/s / hello req/s |");
  L.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results.latency) {
    const h = hello(r.concurrency);
    const base = r === h;
    L.push(
      `| ${r.endpoint} | ${r.concurrency} | ${r.n}${r.failures ? ` (${r.failures} failed)` : ""} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.rps)} | ${base ? "1" : fmt(r.p50 / h.p50)} | ${base ? "1" : fmt(r.rps / h.rps, 3)} |`,
    );
  }
  L.push("", `### Full logins (password + TOTP), ${FULL_CONCURRENCY} concurrent clients`, "");
  L.push("| implementation | password hash (cost per hash) | logins | logins/s | p50 ms | p95 ms | server CPU ms per login |");
  L.push("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  const o = results.oursFull;
  const b = results.baFull;
  L.push(
    `| edge-2fa (workerd, D1, Durable Objects) | PBKDF2-HMAC-SHA256, ${Number(passwordIterations).toLocaleString("en")} iterations (6 chained calls of 100,000) | ${o.n}${o.failures ? ` (${o.failures} failed)` : ""} | ${fmt(o.rps)} | ${fmt(o.p50)} | ${fmt(o.p95)} | ${fmt(o.cpuPerLoginMs)} (whole wrangler tree: ${fmt(o.treeCpuPerLoginMs)}) |`,
  );
  L.push(
    `| Better Auth ${versions["better-auth"]} + twoFactor (Node, better-sqlite3) | scrypt N=16384, r=16, p=1, 64-byte key (its default, node:crypto) | ${b.n}${b.failures ? ` (${b.failures} failed)` : ""} | ${fmt(b.rps)} | ${fmt(b.p50)} | ${fmt(b.p95)} | ${fmt(b.cpuPerLoginMs)} |`,
  );
  L.push("", `Ratios, edge-2fa / Better Auth: logins per second ${fmt(o.rps / b.rps, 2)}, server CPU per login ${fmt(o.cpuPerLoginMs / b.cpuPerLoginMs, 2)}.`);
  L.push("", "### Sizes", "");
  L.push("| what | raw bytes | gzip bytes (level 9) |", "| --- | ---: | ---: |");
  L.push(
    `| Worker bundle (\`wrangler deploy --dry-run --outdir\`: ${results.sizes.worker.files.join(", ")}) | ${results.sizes.worker.raw} | ${results.sizes.worker.gzip} |`,
  );
  L.push(`| pages' scripts (${results.sizes.pages.files.join(", ")}) | ${results.sizes.pages.raw} | ${results.sizes.pages.gzip} |`);
  const c = results.sizes.catalogues;
  L.push(`| pages' catalogues (${c.files.join(", ")}; a page loads one, the largest is ${c.largest} B gzip) | ${c.raw} | ${c.gzip} |`);
  L.push("", "### Machine and versions", "");
  L.push(
    `- machine: \`nproc\` ${machine.nproc}, ${machine.cpuModel}, ${machine.memory} memory, Linux ${machine.kernel}; shared with other work while measured, so absolute numbers are noisy: compare the ratios.`,
  );
  L.push(
    `- versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
  );
  L.push(
    `- server CPU: user + system time from \`/proc/<pid>/stat\` before and after the full-login phase, summed over the server's process tree (the ${o.workerdProcesses} \`workerd\` processes of \`wrangler dev\` for ours, the \`node\` process for Better Auth), divided by the logins.`,
  );
  if (failures) L.push(`- ${failures} requests did not answer as expected (marked above).`);
  return L.join("\n");
}

function writeDoc(md) {
  const path = join(root, "docs", "benchmarks.md");
  const startMark = "<!-- bench:start (written by `npm run bench`) -->";
  const endMark = "<!-- bench:end -->";
  let doc = existsSync(path) ? readFileSync(path, "utf8") : `# Benchmarks\n\n${startMark}\n${endMark}\n`;
  const a = doc.indexOf(startMark);
  const b = doc.indexOf(endMark);
  if (a === -1 || b === -1 || b < a) doc = `${doc.trimEnd()}\n\n${startMark}\n${endMark}\n`;
  const s = doc.indexOf(startMark) + startMark.length;
  const e = doc.indexOf(endMark);
  writeFileSync(path, `${doc.slice(0, s)}\n${md}\n${doc.slice(e)}`);
  log(`wrote ${relative(root, path)}`);
}

try {
  await main();
} catch (err) {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
} finally {
  stopAll();
}
