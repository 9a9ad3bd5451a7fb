#!/usr/bin/env node
// `node bench/better-auth/hash-cost.mjs --hash pbkdf2|scrypt [--n 24]`: the CPU
// of one password check alone in a Node process, with the very functions the
// peer server calls at sign-in (bench/better-auth/pbkdf2.mjs, or Better Auth's
// default scrypt from `better-auth/crypto`). Prints one JSON line: CPU
// milliseconds per check (user + system of this process, the thread pool
// included) and wall milliseconds per check, one check at a time.
import { hashPassword as scryptHash, verifyPassword as scryptVerify } from "better-auth/crypto";
import { PASSWORD } from "../../load/lib/client.mjs";
import { hashPassword as pbkdf2Hash, verifyPassword as pbkdf2Verify } from "./pbkdf2.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const HASHES = { pbkdf2: { hash: pbkdf2Hash, verify: pbkdf2Verify }, scrypt: { hash: scryptHash, verify: scryptVerify } };
const name = arg("hash", "pbkdf2");
const n = Math.max(1, Number(arg("n", "24")));
const h = HASHES[name];
if (!h) throw new Error(`--hash must be one of ${Object.keys(HASHES).join(", ")}`);

const stored = await h.hash(PASSWORD);
// Warm-up: the first check pays for loading and the thread pool's start.
if (!(await h.verify({ hash: stored, password: PASSWORD }))) throw new Error("the stored hash does not verify");
const c0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < n; i++) if (!(await h.verify({ hash: stored, password: PASSWORD }))) throw new Error("check failed");
const wallMs = (performance.now() - t0) / n;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ hash: name, n, cpuMs: (c.user + c.system) / 1000 / n, wallMs }));
