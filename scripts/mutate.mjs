// Mutation check of the security checks (docs/security.md "Mutation check"):
// applies one listed string replacement to a source file, runs the test files
// that should catch it, reports "killed" (a test failed) or "survived", and
// puts the file back whatever happens. Never commit a mutant.
//
//   node scripts/mutate.mjs FILE 'FROM' 'TO' test/a.test.ts [test/b.test.ts ...] [-t 'test name']
//
// (with Node 22 first on PATH: export PATH=$PWD/node_modules/node/bin:$PATH; what follows TO goes to vitest as it is).
// FROM must occur exactly once in FILE, so each mutation is one careless edit.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const [file, from, to, ...tests] = process.argv.slice(2);
if (!file || from === undefined || to === undefined || tests.length === 0) {
  console.error("usage: node scripts/mutate.mjs FILE FROM TO TEST...");
  process.exit(2);
}
const original = readFileSync(file, "utf8");
const count = original.split(from).length - 1;
if (count !== 1) {
  console.error(`mutate: "${from}" occurs ${count} times in ${file}; it must occur once`);
  process.exit(2);
}
const restore = () => writeFileSync(file, original);
process.on("SIGINT", () => {
  restore();
  process.exit(130);
});
writeFileSync(file, original.replace(from, to));
let status;
try {
  const run = spawnSync("npx", ["vitest", "run", ...tests], {
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
  });
  status = run.status;
  const out = `${run.stdout}${run.stderr}`;
  // The failing tests' names say which test killed the mutant.
  const failed = out.split("\n").filter((line) => /^\s*(×|FAIL)\s/.test(line));
  console.log(failed.slice(0, 12).join("\n"));
  const summary = out.split("\n").filter((line) => /^\s*Tests\s/.test(line));
  console.log(summary.join("\n"));
} finally {
  restore();
}
console.log(status === 0 ? `SURVIVED ${file}: ${from} -> ${to}` : `KILLED ${file}: ${from} -> ${to}`);
