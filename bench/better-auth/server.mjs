#!/usr/bin/env node
// The peer of the benchmark: Better Auth with its twoFactor plugin on Node and
// SQLite (better-sqlite3), at its documented defaults. `HASH` picks the
// password hash: `scrypt` (the default: Better Auth's own, scrypt N=16384,
// r=16, p=1, 64-byte key, through node:crypto) or `pbkdf2` (the service's hash,
// bench/better-auth/pbkdf2.mjs, through Better Auth's
// `emailAndPassword.password.hash`/`verify` hooks). Only other change: its rate
// limiter is off, because the benchmark logs in far faster than one person
// would; our side's login throttle refunds correct passwords, so it never
// refuses these logins either.
// `PORT=N DB=path HASH=scrypt|pbkdf2 node server.mjs`.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { twoFactor } from "better-auth/plugins";
import Database from "better-sqlite3";
import { hashPassword, verifyPassword } from "./pbkdf2.mjs";

const port = Number(process.env.PORT ?? 8860);
const baseURL = `http://127.0.0.1:${port}`;
const hash = process.env.HASH ?? "scrypt";
if (hash !== "scrypt" && hash !== "pbkdf2") throw new Error("HASH must be scrypt or pbkdf2");
const db = new Database(process.env.DB ?? ":memory:");
db.pragma("journal_mode = WAL");

export const auth = betterAuth({
  appName: "Bench",
  baseURL,
  secret: "bench-only-secret-0123456789abcdef0123456789abcdef",
  database: db,
  emailAndPassword: { enabled: true, ...(hash === "pbkdf2" ? { password: { hash: hashPassword, verify: verifyPassword } } : {}) },
  plugins: [twoFactor()],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => console.log(`better-auth bench server (${hash}) on ${baseURL}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
