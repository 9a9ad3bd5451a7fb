// The measured section of docs/benchmarks.md, as Markdown, from one run's results.
import { basename } from "node:path";
import { fmt, ratio } from "./measure.mjs";

const failed = (r) => (r.failures ? ` (${r.failures} failed)` : "");

export function render(results) {
  const L = [];
  const { machine, service } = results;
  const args = results.args.length ? ` -- ${results.args.join(" ")}` : "";
  L.push(`Measured ${machine.date} with \`npm run bench${args}\`${results.scale !== 1 ? ` (scale ${results.scale})` : ""}.`);
  L.push(
    `Service measured: \`${basename(service.dir)}\` at commit \`${service.commit}\`${service.subject ? ` (${service.subject})` : ""}${service.dirty ? ", with uncommitted changes" : ""}.`,
    "",
  );
  if (results.latency) latencyTable(L, results.latency);
  if (results.burst) burstTable(L, results.burst);
  if (results.full) fullTable(L, results);
  if (results.storm) stormTable(L, results.storm);
  if (results.sizes) sizesTable(L, results.sizes);
  machineLines(L, results);
  return L.join("\n");
}

function latencyTable(L, rows) {
  const hello = (c) => rows.find((r) => r.endpoint.startsWith("hello") && r.concurrency === c);
  L.push("### Latency and throughput under `wrangler dev`", "");
  L.push("| endpoint | clients | requests | p50 ms | p95 ms | p99 ms | req/s | p50 / hello p50 | req/s / hello req/s |");
  L.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    const h = hello(r.concurrency);
    const base = r === h;
    L.push(
      `| ${r.endpoint} | ${r.concurrency} | ${r.n}${failed(r)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.rps)} | ${base ? "1" : fmt(r.p50 / h.p50)} | ${base ? "1" : fmt(r.rps / h.rps, 3)} |`,
    );
  }
  L.push("");
}

function burstTable(L, b) {
  const rounds = b.rounds ? `, ${b.rounds} rounds of ${b.perRound} each, latencies pooled` : "";
  L.push(`### TOTP second steps alone: a burst at ${b.concurrency} clients against the hello world and the design's floor${rounds}`, "");
  L.push("| endpoint | requests | p50 ms | p95 ms | p99 ms | req/s | server CPU ms per request | of which wrangler's dev proxy |");
  L.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const rows = [
    ["hello world (GET /)", b.hello],
    ["design floor (POST /step: one Durable Object call, one D1 write)", b.floor],
    ["POST /api/auth/verify (TOTP)", b.verify],
  ];
  for (const [name, r] of rows.filter(([, r]) => r))
    L.push(`| ${name} | ${r.n}${failed(r)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.rps)} | ${fmt(r.cpuMs, 2)} | ${fmt(r.proxyCpuMs, 2)} |`);
  const ratios = [
    ["verify / hello", b.verify, b.hello],
    ["floor / hello", b.floor, b.hello],
    ["verify / floor", b.verify, b.floor],
  ];
  for (const [name, x, y] of ratios.filter(([, x, y]) => x && y))
    L.push(
      `| ${name} | | ${ratio(x.p50, y.p50)} | ${ratio(x.p95, y.p95)} | ${ratio(x.p99, y.p99)} | ${ratio(x.rps, y.rps)} | ${ratio(x.cpuMs, y.cpuMs)} | without the proxy: ${ratio(x.cpuMs - x.proxyCpuMs, y.cpuMs - y.proxyCpuMs)} |`,
    );
  if (b.roundRatios) L.push("", `p99 verify / p99 hello world round by round: ${b.roundRatios.map((r) => fmt(r, 2)).join(", ")}.`);
  L.push("");
}

function fullTable(L, results) {
  const hash = results.hash ?? {};
  const alone = { ours: hash.ours, "ba-scrypt": hash.scrypt, "ba-pbkdf2": hash.pbkdf2 };
  // Beside the hash, measured directly with a hash of one iteration: ours, and the peer with our PBKDF2 (its rest does not depend on the hash).
  const rest = { ours: results.rest?.find((r) => r.key === "ours"), "ba-pbkdf2": results.rest?.find((r) => r.key === "ba-pbkdf2") };
  const withoutProxy = (r) => r.cpuPerLoginMs - r.proxyCpuPerLoginMs;
  const concurrency = results.full[0]?.concurrency;
  L.push(`### Full logins (password + TOTP), ${concurrency} concurrent clients, and the password hash alone`, "");
  L.push(
    "| implementation | password hash | logins | logins/s | p50 ms | p95 ms | server CPU ms per login | of which wrangler's dev proxy | the hash alone, CPU ms | beside the hash, CPU ms per login (measured with a hash of 1 iteration) |",
  );
  L.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results.full) {
    const h = alone[r.key];
    const x = rest[r.key];
    const cpu = r.key === "ours" ? `${fmt(r.cpuPerLoginMs)} (whole wrangler tree: ${fmt(r.treeCpuPerLoginMs)})` : fmt(r.cpuPerLoginMs);
    const beside = !x ? "n/a" : r.key === "ours" ? `${fmt(x.cpuPerLoginMs, 2)} (without the proxy ${fmt(withoutProxy(x), 2)})` : fmt(x.cpuPerLoginMs, 2);
    L.push(
      `| ${r.name} | ${r.hash} | ${r.n}${failed(r)} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${cpu} | ${r.key === "ours" ? fmt(r.proxyCpuPerLoginMs) : "none"} | ${fmt(h?.cpuMs)} | ${beside} |`,
    );
  }
  const by = (k) => results.full.find((r) => r.key === k);
  const o = by("ours");
  const lines = [];
  for (const [k, what] of [
    ["ba-pbkdf2", "Better Auth with the same hash (PBKDF2)"],
    ["ba-scrypt", "Better Auth with its default scrypt"],
  ]) {
    const b = by(k);
    if (!o || !b) continue;
    let parts = "";
    if (k === "ba-pbkdf2" && rest.ours && rest[k]) {
      const theirs = alone[k]?.cpuMs + rest[k].cpuPerLoginMs;
      parts = `; built from the parts, (our hash alone + our rest) / (its hash alone + its rest) ${ratio(alone.ours?.cpuMs + rest.ours.cpuPerLoginMs, theirs)} (without wrangler's dev proxy ${ratio(alone.ours?.cpuMs + withoutProxy(rest.ours), theirs)})`;
    }
    lines.push(
      `- edge-2fa / ${what}: logins per second ${ratio(o.rps, b.rps)}, server CPU per login measured ${ratio(o.cpuPerLoginMs, b.cpuPerLoginMs)} (without wrangler's dev proxy ${ratio(o.cpuPerLoginMs - o.proxyCpuPerLoginMs, b.cpuPerLoginMs)})${parts}.`,
    );
  }
  if (lines.length) L.push("", ...lines);
  if (hash.ours)
    L.push(
      "",
      `The hash alone: ours ${fmt(hash.ours.cpuMs)} ms of workerd CPU per hash (${fmt(hash.ours.insideMs)} ms by \`performance.now()\` inside the Worker), ${hash.ours.n} hashes; the peer's in Node ${fmt(hash.pbkdf2?.cpuMs)} ms (PBKDF2) and ${fmt(hash.scrypt?.cpuMs)} ms (scrypt) of CPU per check, ${hash.pbkdf2?.n} checks each.`,
    );
  L.push("");
  if (results.rest?.length) restTable(L, results.rest);
}

function restTable(L, rows) {
  const { iterations, concurrency } = rows[0];
  L.push(`### Beside the hash: full logins against each side with a password hash of ${iterations} PBKDF2 iteration, ${concurrency} concurrent clients`, "");
  L.push(
    "| implementation | logins | password step, CPU ms | second step (TOTP), CPU ms | full login, CPU ms | of which wrangler's dev proxy | without the proxy |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of rows) {
    const ours = r.key === "ours";
    const step = (ms, proxy) => (ours ? `${fmt(ms, 2)} (proxy ${fmt(proxy, 2)})` : fmt(ms, 2));
    L.push(
      `| ${r.name} | ${r.n}${failed(r)} | ${step(r.passwordMs, r.passwordProxyMs)} | ${step(r.secondMs, r.secondProxyMs)} | ${fmt(r.cpuPerLoginMs, 2)} | ${ours ? fmt(r.proxyCpuPerLoginMs, 2) : "none"} | ${fmt(r.cpuPerLoginMs - r.proxyCpuPerLoginMs, 2)} |`,
    );
  }
  const o = rows.find((r) => r.key === "ours");
  const b = rows.find((r) => r.key === "ba-pbkdf2");
  if (o && b)
    L.push(
      "",
      `CPU beside the hash, edge-2fa / Better Auth: ${ratio(o.cpuPerLoginMs, b.cpuPerLoginMs)} (without wrangler's dev proxy ${ratio(o.cpuPerLoginMs - o.proxyCpuPerLoginMs, b.cpuPerLoginMs)}).`,
    );
  L.push("");
}

function stormTable(L, rows) {
  L.push(`### The TOTP second step under a login storm`, "");
  L.push(
    "| implementation | storm clients | storm logins/s, storm alone | storm logins/s, with the steps | storm login p50 ms | TOTP steps (clients) | TOTP step p50 ms | p95 ms | p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const r of rows)
    L.push(
      `| ${r.name} | ${r.clients} | ${fmt(r.storm.aloneLoginsPerSecond)} | ${fmt(r.storm.loginsPerSecond)}${r.storm.failures ? ` (${r.storm.failures} failed)` : ""} | ${fmt(r.storm.p50)} | ${r.verify.n}${failed(r.verify)} (${r.verifiers}) | ${fmt(r.verify.p50)} | ${fmt(r.verify.p95)} | ${fmt(r.verify.p99)} |`,
    );
  const ratios = [...new Set(rows.map((r) => r.clients))].flatMap((c) => {
    const o = rows.find((r) => r.clients === c && r.key === "ours");
    const b = rows.find((r) => r.clients === c && r.key === "ba-pbkdf2");
    return o && b ? [`${c} storm clients ${ratio(o.verify.p99, b.verify.p99)} (p50 ${ratio(o.verify.p50, b.verify.p50)})`] : [];
  });
  if (ratios.length) L.push("", `TOTP step p99, edge-2fa / Better Auth with the same hash: ${ratios.join("; ")}.`);
  L.push("");
}

function sizesTable(L, s) {
  L.push("### Sizes", "");
  L.push("| what | raw bytes | gzip bytes (level 9) |", "| --- | ---: | ---: |");
  L.push(`| Worker bundle (\`wrangler deploy --dry-run --outdir\`: ${s.worker.files.join(", ")}) | ${s.worker.raw} | ${s.worker.gzip} |`);
  L.push(`| pages' scripts (${s.pages.files.join(", ")}) | ${s.pages.raw} | ${s.pages.gzip} |`);
  const c = s.catalogues;
  L.push(`| pages' catalogues (${c.files.join(", ")}; a page loads one, the largest is ${c.largest} B gzip) | ${c.raw} | ${c.gzip} |`, "");
}

function machineLines(L, results) {
  const { machine, versions } = results;
  L.push("### Machine and versions", "");
  L.push(
    `- machine: \`nproc\` ${machine.nproc}, ${machine.cpuModel}, ${machine.memory} memory, Linux ${machine.kernel}; absolute numbers depend on what else ran: compare the ratios.`,
  );
  L.push(
    `- versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
  );
  const ours = results.full?.find((r) => r.key === "ours");
  L.push(
    `- server CPU: user + system time from \`/proc/<pid>/stat\` before and after a phase, summed over the server's processes (ours: ${ours?.cpuOf ?? "the `workerd` processes of `wrangler dev`"}${results.full ? "; Better Auth: its `node` process, thread pool included" : ""}), divided by the logins or requests.`,
  );
  if (results.failures) L.push(`- ${results.failures} requests did not answer as expected (marked above).`);
}
