// Our side up: the service (`npm start` of the measured checkout), Hono's
// hello world and the design's floor (bench/floor/), each on its own `wrangler dev`, and the users the later phases
// log in with. Stopped again before the peer runs, so the two never share the
// machine while measured.
import { join } from "node:path";
import { freePort } from "../../load/lib/client.mjs";
import { startBenchWorker, startService, waitForWrangler } from "../lib/service.mjs";
import { oursSide } from "../lib/sides.mjs";
import { APPS_PER_USER, benchUsers, Slots } from "../lib/slots.mjs";

/** `slotsNeeded`: how many successful TOTP verifications the selected phases make. */
export async function startOurs(ctx, slotsNeeded) {
  const ourPort = await freePort(ctx.ports);
  ctx.ports.add(ourPort);
  const server = startService(ctx, ourPort, join(ctx.tmp, "ours"));
  const helloPort = await freePort(ctx.ports);
  ctx.ports.add(helloPort);
  const hello = startBenchWorker(ctx, join(ctx.root, "bench", "hello", "wrangler.toml"), helloPort, join(ctx.tmp, "hello"));
  const floorPort = await freePort(ctx.ports);
  ctx.ports.add(floorPort);
  const floor = startBenchWorker(ctx, join(ctx.root, "bench", "floor", "wrangler.toml"), floorPort, join(ctx.tmp, "floor"), { d1Migrations: true });
  const base = `http://localhost:${ourPort}`;
  const helloBase = `http://localhost:${helloPort}`;
  const floorBase = `http://localhost:${floorPort}`;
  await waitForWrangler(`${base}/api/me`, 401, server);
  await waitForWrangler(`${helloBase}/`, 200, hello);
  await waitForWrangler(`${floorBase}/`, 200, floor);
  ctx.log(`service (${ctx.service.dir}) on ${base}, hello world on ${helloBase}, the design floor on ${floorBase}`);

  // Each user with several authenticator apps, so every successful TOTP
  // verification can use an app whose current step is still unused.
  ctx.log(`setting up users with ${APPS_PER_USER} authenticator apps each for ${slotsNeeded} TOTP steps`);
  const users = await benchUsers(base, slotsNeeded, "bench");
  const side = oursSide({ base, port: ourPort, server, users, slots: new Slots(users), passwordIterations: ctx.service.passwordIterations });
  return { base, helloBase, floorBase, port: ourPort, helloPort, floorPort, server, hello, floor, users, side };
}

export async function stopOurs(ctx, ours) {
  await Promise.all([ctx.procs.stopAndWait(ours.server), ctx.procs.stopAndWait(ours.hello), ctx.procs.stopAndWait(ours.floor)]);
}
