// The benchmark's command line:
//   --scale N        multiply every request count by N (0.1 for a quick check)
//   --no-doc         print the tables, leave docs/benchmarks.md alone
//   --service DIR    measure the service of another checkout (with its own node_modules)
//   --label L        `after` (default) writes the main measured section, `before` its own section
//   --only A,B       run only these phases: sizes, latency, burst, full, storm (never writes the doc)
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const PHASES = ["sizes", "latency", "burst", "full", "storm"];
export const LABELS = ["before", "after"];

/** The value of `--name VALUE` or `--name=VALUE`, or undefined when the option is absent. */
export function optionValue(argv, name) {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i === -1) return undefined;
  const a = argv[i];
  const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`--${name} needs a value`);
  return v;
}

export function benchOptions(argv, root) {
  const known = new Set(["scale", "no-doc", "service", "label", "only"]);
  for (const a of argv) {
    const m = /^--([a-z-]+)/.exec(a);
    if (m && !known.has(m[1])) throw new Error(`unknown option ${a} (known: ${[...known].map((k) => `--${k}`).join(", ")})`);
  }
  const scale = Number(optionValue(argv, "scale") ?? 1);
  if (!(scale > 0)) throw new Error("--scale must be a positive number");
  const label = optionValue(argv, "label") ?? "after";
  if (!LABELS.includes(label)) throw new Error(`--label must be one of ${LABELS.join(", ")}`);
  const only = optionValue(argv, "only")?.split(",").filter(Boolean) ?? PHASES;
  for (const p of only) if (!PHASES.includes(p)) throw new Error(`--only: unknown phase ${p} (phases: ${PHASES.join(", ")})`);
  const serviceDir = resolve(optionValue(argv, "service") ?? root);
  for (const need of ["wrangler.toml", join("scripts", "start.mjs"), join("node_modules", ".bin", "wrangler")]) {
    if (!existsSync(join(serviceDir, need))) throw new Error(`--service ${serviceDir}: no ${need} there (a checkout of this service after npm ci)`);
  }
  return {
    scale,
    label,
    only: new Set(only),
    partial: only.length !== PHASES.length,
    writeDoc: !argv.includes("--no-doc"),
    serviceDir,
    /** The arguments as given, for the table's header. */
    args: argv,
  };
}

/** A request count scaled by --scale, never below `min`. */
export function scaled(opt) {
  return (full, min = 4) => Math.max(min, Math.round(full * opt.scale));
}
