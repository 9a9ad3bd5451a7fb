// Server CPU time from /proc: user + system ticks of a process tree, read
// before and after a phase. The client runs in another process and is not counted.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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

/** CPU seconds (user + system, all threads) of the processes under `pid` whose name matches. */
export function treeCPU(pid, match = () => true) {
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

const isWorkerd = (p) => p.comm.startsWith("workerd");

/**
 * The `workerd` processes under a `wrangler dev` started as `pid`: the runtime that serves the Worker,
 * and wrangler's dev proxy in front of it. With the `port` the dev server was given, `proxySeconds`
 * is the proxy's share: the `workerd` that listens on that port and forwards every request to the
 * runtime, a hop of local development that a deployed Worker does not have (NaN when no such
 * process is found, as with a wrangler that serves from one process).
 */
export function workerdCPU(pid, port) {
  const all = treeCPU(pid, isWorkerd);
  const proxies = port === undefined ? [] : all.processes.filter((p) => isWorkerd(p) && listensOn(p.pid, port));
  const proxySeconds = proxies.length ? proxies.reduce((a, p) => a + p.ticks, 0) / CLK_TCK : Number.NaN;
  return { ...all, proxySeconds };
}

/** Whether a workerd was started with its entry socket on `port` (`--socket-addr=entry=HOST:PORT`). */
function listensOn(pid, port) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .some((a) => a.startsWith("--socket-addr=entry=") && a.endsWith(`:${port}`));
  } catch {
    return false;
  }
}

/** The version of the workerd binary running under `pid`, or "unknown". */
export function workerdVersion(pid) {
  const exe = workerdCPU(pid).processes.find(isWorkerd);
  if (!exe) return "unknown";
  try {
    return execFileSync(`/proc/${exe.pid}/exe`, ["--version"])
      .toString()
      .trim()
      .replace(/^workerd /, "");
  } catch {
    return "unknown";
  }
}
