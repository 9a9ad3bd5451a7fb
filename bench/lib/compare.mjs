// Before and after: the figures the performance work is judged by, from the
// "before" run kept in docs/benchmarks.md and this run, side by side.
import { fmt } from "./measure.mjs";

/** The figures of one run's results; missing ones are NaN. */
export function keyFigures(r) {
  const full = (k) => r.full?.find((x) => x.key === k);
  const rest = (k) => r.rest?.find((x) => x.key === k);
  const storm = (k, c) => r.storm?.find((x) => x.key === k && x.clients === c);
  const login32 = r.latency?.find((x) => x.endpoint.startsWith("POST /api/auth/login") && x.concurrency === 32);
  const q = (a, b) => (a ?? Number.NaN) / (b ?? Number.NaN);
  return [
    ["full logins per second, edge-2fa (8 clients)", full("ours")?.rps, 1, "not below before"],
    ["password logins per second, edge-2fa (32 clients)", login32?.rps, 1, "not below before"],
    ["storm logins per second, storm alone, edge-2fa (8 storm clients)", storm("ours", 8)?.storm.aloneLoginsPerSecond, 1, "not below before"],
    ["storm logins per second, storm alone, edge-2fa (32 storm clients)", storm("ours", 32)?.storm.aloneLoginsPerSecond, 1, "not below before"],
    ["storm logins per second while the 128 second steps run, edge-2fa (8 storm clients)", storm("ours", 8)?.storm.loginsPerSecond, 1, ""],
    ["storm logins per second while the 128 second steps run, edge-2fa (32 storm clients)", storm("ours", 32)?.storm.loginsPerSecond, 1, ""],
    ["TOTP step p99 under a storm of 32, edge-2fa, ms", storm("ours", 32)?.verify.p99, 1, ""],
    [
      "TOTP step p99 under a storm of 32, edge-2fa / Better Auth (PBKDF2)",
      q(storm("ours", 32)?.verify.p99, storm("ba-pbkdf2", 32)?.verify.p99),
      2,
      "at most 0.5",
    ],
    ["TOTP step p99 under a storm of 8, edge-2fa / Better Auth (PBKDF2)", q(storm("ours", 8)?.verify.p99, storm("ba-pbkdf2", 8)?.verify.p99), 2, ""],
    ["TOTP burst at 32 clients, p99 verify / p99 hello world", q(r.burst?.verify.p99, r.burst?.hello.p99), 2, "at most 2"],
    ["TOTP burst at 32 clients, p99 design floor / p99 hello world", q(r.burst?.floor?.p99, r.burst?.hello.p99), 2, ""],
    ["TOTP burst at 32 clients, p99 verify / p99 design floor", q(r.burst?.verify.p99, r.burst?.floor?.p99), 2, ""],
    ["TOTP burst, server CPU ms per verify", r.burst?.verify.cpuMs, 2, ""],
    [
      "TOTP burst, server CPU ms per verify without wrangler's dev proxy",
      (r.burst?.verify.cpuMs ?? Number.NaN) - (r.burst?.verify.proxyCpuMs ?? Number.NaN),
      2,
      "",
    ],
    ["server CPU ms per full login, edge-2fa", full("ours")?.cpuPerLoginMs, 1, ""],
    ["server CPU per full login, edge-2fa / Better Auth (PBKDF2)", q(full("ours")?.cpuPerLoginMs, full("ba-pbkdf2")?.cpuPerLoginMs), 2, "at most 0.8"],
    [
      "server CPU per full login without wrangler's dev proxy, edge-2fa / Better Auth (PBKDF2)",
      q((full("ours")?.cpuPerLoginMs ?? Number.NaN) - (full("ours")?.proxyCpuPerLoginMs ?? Number.NaN), full("ba-pbkdf2")?.cpuPerLoginMs),
      2,
      "",
    ],
    ["server CPU ms per full login beside the hash (hash of 1 iteration), edge-2fa", rest("ours")?.cpuPerLoginMs, 2, ""],
    [
      "server CPU ms per full login beside the hash (hash of 1 iteration), edge-2fa, without wrangler's dev proxy",
      (rest("ours")?.cpuPerLoginMs ?? Number.NaN) - (rest("ours")?.proxyCpuPerLoginMs ?? Number.NaN),
      2,
      "",
    ],
    ["server CPU ms per full login beside the hash (hash of 1 iteration), Better Auth (PBKDF2)", rest("ba-pbkdf2")?.cpuPerLoginMs, 2, ""],
    ["Worker bundle, gzip bytes", r.sizes?.worker.gzip, 0, ""],
  ].map(([what, value, digits, target]) => ({ what, value: value ?? Number.NaN, digits, target }));
}

export function renderComparison(before, after) {
  const b = keyFigures(before);
  const a = keyFigures(after);
  const L = ["### Before and after", ""];
  L.push(
    `Before: measured ${before.machine.date}, commit \`${before.service.commit}\`; after: this run, commit \`${after.service.commit}\`. Both runs should come from the same machine, quiet, with the same bench scripts.`,
    "",
  );
  L.push("| figure | before | after | target |", "| --- | ---: | ---: | --- |");
  for (let i = 0; i < a.length; i++) L.push(`| ${a[i].what} | ${fmt(b[i].value, a[i].digits)} | ${fmt(a[i].value, a[i].digits)} | ${a[i].target} |`);
  L.push("");
  return L.join("\n");
}
