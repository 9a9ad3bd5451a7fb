// The peer up: Better Auth on Node and SQLite with one of its two password
// hashes, and its users (sign-up, 2FA turned on and confirmed).
import { join } from "node:path";
import { expect, freePort, PASSWORD, pool, totpCode } from "../../load/lib/client.mjs";
import { ensureBetterSqlite } from "../lib/better-sqlite.mjs";
import { JarClient, secretFromURI } from "../lib/jar-client.mjs";
import { waitFor } from "../lib/processes.mjs";
import { packageVersion } from "../lib/service.mjs";
import { betterAuthSide } from "../lib/sides.mjs";

export const BETTER_AUTH_HASHES = {
  scrypt: { key: "ba-scrypt", hash: "scrypt N=16384, r=16, p=1, 64-byte key (its default, node:crypto)" },
  pbkdf2: { key: "ba-pbkdf2", hash: null },
};

/**
 * `hash`: "scrypt" or "pbkdf2"; `users`: how many accounts the phases spread their logins over;
 * `iterations`: PBKDF2's, the service's own unless given (with its own database when not).
 */
export async function startBetterAuth(ctx, hash, users, { iterations = ctx.service.passwordIterations } = {}) {
  ensureBetterSqlite(ctx);
  const own = iterations === ctx.service.passwordIterations;
  const port = await freePort(ctx.ports);
  ctx.ports.add(port);
  const server = ctx.procs.start(process.execPath, [join(ctx.root, "bench", "better-auth", "server.mjs")], {
    cwd: ctx.root,
    env: {
      PORT: String(port),
      DB: join(ctx.tmp, `better-auth-${hash}${own ? "" : `-${iterations}`}.sqlite`),
      NODE_ENV: "production",
      HASH: hash,
      PBKDF2_ITERATIONS: String(iterations),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/api/auth/ok`, 200, server);
  const accounts = [];
  await pool(users, 4, async (i) => {
    const c = new JarClient(base);
    const email = `ba-${hash}-${i}-${Date.now()}@example.com`;
    expect(await c.post("/api/auth/sign-up/email", { email, password: PASSWORD, name: "Bench" }), 200, "better-auth sign-up");
    const en = expect(await c.post("/api/auth/two-factor/enable", { password: PASSWORD }), 200, "better-auth enable 2FA");
    const secret = secretFromURI(en.body.totpURI);
    expect(await c.post("/api/auth/two-factor/verify-totp", { code: totpCode(secret) }), 200, "better-auth confirm TOTP");
    accounts[i] = { email, secret };
  });
  const label = hash === "scrypt" ? "scrypt" : "PBKDF2";
  const side = betterAuthSide({
    key: BETTER_AUTH_HASHES[hash].key,
    name: `Better Auth ${packageVersion(ctx.root, "better-auth")} + twoFactor (Node, better-sqlite3), ${label}`,
    hash:
      BETTER_AUTH_HASHES[hash].hash ??
      `PBKDF2-HMAC-SHA256, ${iterations.toLocaleString("en")} iterations, 16-byte salt (its password hooks, async node:crypto on the thread pool)`,
    base,
    server,
    users: accounts,
  });
  ctx.log(`better-auth (${hash}${own ? "" : `, ${iterations} iterations`}) on ${base}, ${users} users`);
  return { server, side };
}
