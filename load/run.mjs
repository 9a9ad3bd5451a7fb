#!/usr/bin/env node
// `npm run load [-- --users N --verifications N --group N --storms N --timing-samples N --max-seconds N --no-doc]`
//
// Race and load test over the real HTTP API. Without BASE_URL it starts a fresh
// service (scripts/with-server.mjs, loopback, own state directory) and runs
// against it. Many users with authenticator apps, each in a community of their
// own that one admin joins, run mixed flows at once: password logins, TOTP and
// backup-code verifications, backup-code regeneration, admin resets with
// recovery codes and re-enrollment.
// Codes collide on purpose: several second-factor sessions of one user submit
// the same code at the same instant, and the run counts how many times each
// single-use code was accepted; TOTP codes already accepted are replayed in
// later rounds. Exits non-zero on any double-spend, any acceptance of a code
// that should be dead, any session a reset should have ended that was not,
// any collision round without a winner, any unexpected answer, more than
// MAX_RELOADS 503s from a reloading dev server, or a login-timing ratio far
// from 1; docs/benchmarks.md is written only when the run passed. Every loop
// is bounded by count and by time.
//
// The phases, in order: setup, steady rounds, storms, login timing, password-reset timing, report
// (load/phases/); what they share is in load/lib/.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./lib/client.mjs";
import { replaceMarked } from "./lib/doc.mjs";
import { loadOptions } from "./lib/options.mjs";
import { newRun } from "./lib/run-state.mjs";
import { loginTiming } from "./phases/login-timing.mjs";
import { failures, reportLines } from "./phases/report.mjs";
import { resetTiming } from "./phases/reset-timing.mjs";
import { setup } from "./phases/setup.mjs";
import { steady } from "./phases/steady.mjs";
import { storms } from "./phases/storms.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const opt = loadOptions(process.argv.slice(2));

if (!process.env.BASE_URL) {
  // Re-run this script against a fresh service; with-server stops it afterwards.
  const port = process.env.PORT ?? String(await freePort());
  const child = spawn(
    process.execPath,
    [join(here, "..", "scripts", "with-server.mjs"), process.execPath, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
      env: { ...process.env, PORT: port },
    },
  );
  child.on("exit", (code) => process.exit(code ?? 1));
} else {
  await main(process.env.BASE_URL.replace(/\/$/, ""));
}

async function main(base) {
  const run = newRun(base, opt);
  console.log(`load: ${base}, ${opt.users} users, group ${opt.group}, target ${opt.verifications} verifications, at most ${opt.maxSeconds} s`);
  await setup(run);
  const loadSeconds = await steady(run);
  await storms(run);
  const timing = await loginTiming(run);
  const resetTimes = await resetTiming(run);

  const lines = reportLines(run, { loadSeconds, timing, resetTimes });
  console.log(lines.join("\n"));
  if (run.errorSamples.length) console.log(`\nunexpected answers (first ${run.errorSamples.length}):\n${run.errorSamples.join("\n")}`);
  const failed = failures(run, { timing, resetTimes });
  if (failed.length) {
    console.log(`\nload: FAILED: ${failed.join(", ")}`);
    process.exit(1);
  }
  // Only a run that passed is a result worth recording.
  if (opt.writeDoc) writeDoc(lines.slice(2).join("\n"));
  console.log("\nload: passed");
}

/** Puts the report between the load markers of docs/benchmarks.md (`--no-doc` leaves it alone). */
function writeDoc(report) {
  const when = new Date().toISOString();
  const block = `\nLast run ${when}: \`npm run load${opt.args.length ? ` -- ${opt.args.join(" ")}` : ""}\`\n\n\`\`\`text\n${report}\n\`\`\`\n`;
  if (replaceMarked({ startMark: "<!-- load:start", endMark: "<!-- load:end -->", block })) console.log("load: wrote docs/benchmarks.md");
}
