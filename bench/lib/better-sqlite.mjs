// better-sqlite3 (the peer's database) for the Node that runs the benchmark.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * npm builds better-sqlite3 against the headers npm is configured with (on
 * these machines the system Node's), while `npm run` puts the project's Node 22
 * first on PATH. When the addon does not load here, rebuild it once against this
 * Node's own headers (from the `node-<platform>-<arch>` package of the npm
 * registry when they are not already on disk).
 */
export function ensureBetterSqlite({ root, env, log }) {
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
