#!/usr/bin/env node
// `npm run bench:ab -- --service DIR [--rounds 6] [--scale 1]`: logins per second of two
// checkouts of the service, measured in alternation within one run. `npm run bench`
// measures a "before" and an "after" one after the other, half an hour apart, and
// this machine's speed drifts more than that between runs (docs/benchmarks.md
// "Reading the numbers"); here both services are up at once, idle while the other
// is measured, and each round measures A then B or B then A, so drift falls on both.
//
// A is the checkout given with --service (the older one), B this checkout. Per round
// and side: full logins (password + TOTP) at 8 clients and password logins at 32
// clients, logins per second and the `workerd` CPU per full login. Reported: each
// round's B / A and their median.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, freePort, PASSWORD } from "../load/lib/client.mjs";
import { fmt, ratio, timed } from "./lib/measure.mjs";
import { optionValue } from "./lib/options.mjs";
import { runScript } from "./lib/processes.mjs";
import { BENCH_ENV, describeService, startService, waitForWrangler } from "./lib/service.mjs";
import { oursSide } from "./lib/sides.mjs";
import { benchUsers, Slots } from "./lib/slots.mjs";
import { fullLogins } from "./phases/full-logins.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg) => console.log(`bench:ab: ${msg}`);

function options(argv) {
  const service = optionValue(argv, "service");
  if (!service) throw new Error("--service DIR: the checkout to compare this one with (after its npm ci)");
  const rounds = Number(optionValue(argv, "rounds") ?? 6);
  const scale = Number(optionValue(argv, "scale") ?? 1);
  if (!(rounds >= 2) || !(scale > 0)) throw new Error("--rounds must be at least 2 and --scale positive");
  return { service, rounds, scale };
}

const PASSWORD_CLIENTS = 32;

/** One service up, with users enough for `slotsNeeded` TOTP second steps. */
async function startSide(ctx, label, dir, slotsNeeded) {
  const service = describeService(dir);
  const port = await freePort(ctx.ports);
  ctx.ports.add(port);
  const server = startService({ procs: ctx.procs, service }, port, join(ctx.tmp, label));
  const base = `http://localhost:${port}`;
  await waitForWrangler(`${base}/api/me`, 401, server);
  const users = await benchUsers(base, slotsNeeded, `ab${label}`);
  log(`${label}: ${service.dir} at ${service.commit}${service.dirty ? " (uncommitted changes)" : ""} on ${base}, ${users.length} users`);
  const side = oursSide({ base, port, server, users, slots: new Slots(users), passwordIterations: service.passwordIterations });
  return { label, service, server, base, users, side };
}

/** Password logins (the step that ends at `second_factor_required`) at 32 clients, spread over the users. */
async function passwordLogins(s, count) {
  return timed(count, PASSWORD_CLIENTS, async (i) => {
    const user = s.users[i % s.users.length];
    const r = await new Client(s.base, { browser: user.browser }).post("/api/auth/login", { email: user.email, password: PASSWORD });
    return r.status === 200 && r.body?.status === "second_factor_required";
  });
}

async function main(ctx) {
  const { opt } = ctx;
  const count = Math.max(8, Math.round(96 * opt.scale));
  const a = await startSide(ctx, "A", opt.service, opt.rounds * count);
  const b = await startSide(ctx, "B", root, opt.rounds * count);
  const rows = [];
  for (let round = 0; round < opt.rounds; round++) {
    const row = {};
    for (const s of round % 2 === 0 ? [a, b] : [b, a]) {
      const full = await fullLogins({ n: () => count, log: () => {} }, s.side);
      const password = await passwordLogins(s, count);
      row[s.label] = { full: full.rps, cpu: full.cpuPerLoginMs, password: password.rps, failures: full.failures + password.failures };
    }
    rows.push(row);
    log(
      `round ${round + 1}: full logins/s A ${fmt(row.A.full)} B ${fmt(row.B.full)}; password logins/s A ${fmt(row.A.password)} B ${fmt(row.B.password)}; CPU ms per full login A ${fmt(row.A.cpu)} B ${fmt(row.B.cpu)}`,
    );
  }
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const figure = (what, key) => {
    const q = rows.map((r) => r.B[key] / r.A[key]);
    return `| ${what} | ${fmt(median(rows.map((r) => r.A[key])))} | ${fmt(median(rows.map((r) => r.B[key])))} | ${fmt(median(q), 2)} | ${fmt(Math.min(...q), 2)} to ${fmt(Math.max(...q), 2)} |`;
  };
  const L = [
    `### Logins per second, A and B alternated (${opt.rounds} rounds of ${count})`,
    "",
    `A: \`${a.service.commit}\`; B: \`${b.service.commit}\`${b.service.dirty ? " (uncommitted changes)" : ""}. Each round measures both, A first in odd rounds and B first in even ones.`,
    "",
    "| figure | A, median | B, median | B / A, median of the rounds | B / A, range |",
    "| --- | ---: | ---: | ---: | ---: |",
    figure("full logins per second (8 clients)", "full"),
    figure(`password logins per second (${PASSWORD_CLIENTS} clients)`, "password"),
    figure("`workerd` CPU ms per full login", "cpu"),
    "",
  ];
  const failures = rows.reduce((n, r) => n + r.A.failures + r.B.failures, 0);
  if (failures) L.push(`${failures} logins did not answer as expected.`, "");
  console.log(L.join("\n"));
  console.log(`round by round B / A, full logins per second: ${rows.map((r) => ratio(r.B.full, r.A.full)).join(", ")}`);
  if (failures) process.exitCode = 1;
}

await runScript({ name: "bench:ab", minutes: 30, env: BENCH_ENV }, async ({ procs, tmp }) => {
  await main({ opt: options(process.argv.slice(2)), tmp, procs, ports: new Set() });
});
