// What the numbers were measured on: the machine, the versions, the service's commit.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { packageVersion } from "../lib/service.mjs";

export function machineAndVersions(ctx, workerd) {
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
    wrangler: packageVersion(ctx.service.dir, "wrangler"),
    workerd,
    hono: packageVersion(ctx.service.dir, "hono"),
    "better-auth": packageVersion(ctx.root, "better-auth"),
    "better-sqlite3": packageVersion(ctx.root, "better-sqlite3"),
  };
  return { machine, versions };
}
