// Latency and throughput against the floor: at 1, 8 and 32 concurrent clients,
// Hono's hello world, then password logins of accounts with 2FA, then the TOTP
// second step of those same sessions.
import { Client } from "../../load/lib/client.mjs";
import { fmt, timed } from "../lib/measure.mjs";

export const LATENCY_CONCURRENCY = [1, 8, 32];

/** Requests per concurrency level; logins cost a 600,000-iteration PBKDF2 each, so fewer of them. */
export function latencyCounts(n) {
  return { hello: { 1: n(400), 8: n(1600), 32: n(3200) }, login: { 1: n(24), 8: n(64), 32: n(96) } };
}

export async function latency(ctx, ours) {
  const counts = latencyCounts(ctx.n);
  const rows = [];
  for (const c of LATENCY_CONCURRENCY) {
    const h = new Client(ours.helloBase);
    const helloRun = await timed(counts.hello[c], c, async () => (await h.get("/")).status === 200);
    rows.push({ endpoint: "hello world (GET /)", concurrency: c, ...helloRun });

    // Logins spread over users (at most a few in flight per email, under its throttle),
    // each from its own client address; every one leaves a second-factor session.
    const count = counts.login[c];
    const tickets = ours.side.reserve(count);
    const pending = [];
    const loginRun = await timed(count, c, async (i) => {
      pending[i] = await ours.side.login(tickets[i]);
      return pending[i] !== null;
    });
    rows.push({ endpoint: "POST /api/auth/login", concurrency: c, ...loginRun });

    const verifyRun = await timed(count, c, async (i) => pending[i] != null && (await ours.side.verify(pending[i])));
    rows.push({ endpoint: "POST /api/auth/verify (TOTP)", concurrency: c, ...verifyRun });
    ctx.log(`concurrency ${c}: hello ${fmt(helloRun.rps, 0)}/s, login ${fmt(loginRun.rps)}/s, verify ${fmt(verifyRun.rps)}/s`);
  }
  return rows;
}
