// What a full login costs beside the password hash, measured directly: each
// side once more against a server whose password hash is one PBKDF2
// iteration, so what a login still costs there is the rest (HTTP, sessions,
// the databases, the TOTP check). Login CPU minus the hash measured alone is
// two measurements of about 150 ms each, minutes apart, and swings by more
// than the few milliseconds a change to the rest moves; this measures the
// few milliseconds themselves, over hundreds of logins.
//
// Ours: the service with `--var PASSWORD_ITERATIONS:1` (passed on to
// `wrangler dev`), its own state and its own users, signed up under that
// setting so that no login meets a dearer stored hash. The peer: Better Auth
// with our PBKDF2 through its password hooks at PBKDF2_ITERATIONS=1, its own
// database and users. Each server alone on the machine, as in the other phases.
//
// The logins run in batches: a batch's password steps, the server's CPU read,
// then the same sessions' second steps, the CPU read again; so each step's CPU
// is its own, and a guard is still warm at its second step as in a full login.
import { join } from "node:path";
import { freePort } from "../../load/lib/client.mjs";
import { fmt, timed } from "../lib/measure.mjs";
import { startService, waitForWrangler } from "../lib/service.mjs";
import { oursSide } from "../lib/sides.mjs";
import { benchUsers, Slots } from "../lib/slots.mjs";
import { startBetterAuth } from "./better-auth.mjs";
import { FULL_CONCURRENCY } from "./full-logins.mjs";

export const REST_ITERATIONS = 1;
export const restCount = (n) => n(300);
/** Full logins before the measured ones: compiled code, Durable Objects and the peer's caches warm. */
const WARM_UP = 24;
/** Logins per batch: a few per client, so a batch's step outlasts the /proc tick many times over. */
const BATCH = 4 * FULL_CONCURRENCY;

export async function oursRest(ctx) {
  const t0 = Date.now();
  const port = await freePort(ctx.ports);
  ctx.ports.add(port);
  const server = startService(ctx, port, join(ctx.tmp, "ours-rest"), ["--var", `PASSWORD_ITERATIONS:${REST_ITERATIONS}`]);
  try {
    const base = `http://localhost:${port}`;
    await waitForWrangler(`${base}/api/me`, 401, server);
    ctx.log(`service with a hash of ${REST_ITERATIONS} iteration on ${base} after ${fmt((Date.now() - t0) / 1000, 0)} s; setting up its users`);
    const users = await benchUsers(base, restCount(ctx.n) + WARM_UP, "rest");
    const side = oursSide({ base, port, server, users, slots: new Slots(users), passwordIterations: REST_ITERATIONS });
    return await measureRest(ctx, side, t0);
  } finally {
    await ctx.procs.stopAndWait(server);
  }
}

export async function peerRest(ctx) {
  const t0 = Date.now();
  const ba = await startBetterAuth(ctx, "pbkdf2", Math.min(restCount(ctx.n), 32), { iterations: REST_ITERATIONS });
  try {
    return await measureRest(ctx, ba.side, t0);
  } finally {
    await ctx.procs.stopAndWait(ba.server);
  }
}

/** `t0`: when the phase started its server, for the log's account of the phase's run time. */
async function measureRest(ctx, side, t0) {
  const warm = side.reserve(WARM_UP);
  await timed(WARM_UP, FULL_CONCURRENCY, async (i) => {
    const s = await side.login(warm[i]);
    return s !== null && (await side.verify(s));
  });
  const count = restCount(ctx.n);
  const tickets = side.reserve(count);
  const password = { cpu: 0, proxy: 0 };
  const second = { cpu: 0, proxy: 0 };
  let failures = 0;
  for (let at = 0; at < count; at += BATCH) {
    const n = Math.min(BATCH, count - at);
    const sessions = [];
    await cpuOf(side, password, () =>
      timed(n, FULL_CONCURRENCY, async (i) => {
        sessions[i] = await side.login(tickets[at + i]);
        return sessions[i] !== null;
      }),
    );
    // A login counts as failed when it did not end authenticated, whichever step refused it.
    const run = await cpuOf(side, second, () => timed(n, FULL_CONCURRENCY, async (i) => sessions[i] !== null && (await side.verify(sessions[i]))));
    failures += run.failures;
  }
  const per = (seconds) => (seconds * 1000) / count;
  const row = {
    key: side.key,
    name: side.name,
    iterations: REST_ITERATIONS,
    concurrency: FULL_CONCURRENCY,
    n: count,
    failures,
    passwordMs: per(password.cpu),
    passwordProxyMs: per(password.proxy),
    secondMs: per(second.cpu),
    secondProxyMs: per(second.proxy),
    cpuPerLoginMs: per(password.cpu + second.cpu),
    proxyCpuPerLoginMs: per(password.proxy + second.proxy),
  };
  ctx.log(
    `${side.name}, hash of ${REST_ITERATIONS} iteration: ${fmt(row.cpuPerLoginMs, 2)} ms server CPU per full login (password step ${fmt(row.passwordMs, 2)}, second step ${fmt(row.secondMs, 2)}; wrangler's dev proxy ${fmt(row.proxyCpuPerLoginMs, 2)}), ${failures} failed; ${fmt((Date.now() - t0) / 1000, 0)} s with the server's start`,
  );
  return row;
}

/** Runs `fn`, adding the server's CPU seconds (and its dev proxy's) over it to `into`. */
async function cpuOf(side, into, fn) {
  const cpu0 = side.cpuSeconds();
  const proxy0 = side.proxyCpuSeconds();
  const result = await fn();
  into.cpu += side.cpuSeconds() - cpu0;
  into.proxy += side.proxyCpuSeconds() - proxy0;
  return result;
}
