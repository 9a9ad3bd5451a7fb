// The two implementations as the login phases see them: a password step that
// leaves a second-factor session, a TOTP second step, and the server's CPU.
// The full-login and login-storm phases run the same code against either side.
import { Client, PASSWORD, stepOf, totpCode } from "../../load/lib/client.mjs";
import { treeCPU, workerdCPU } from "./cpu.mjs";
import { JarClient } from "./jar-client.mjs";

/**
 * Ours. A TOTP step is accepted once per authenticator app, so every
 * successful second step needs an app whose current step is unused: `slots`
 * hands out (user, app) pairs, each at most once per run.
 */
export function oursSide({ base, port, server, users, slots, passwordIterations }) {
  return {
    key: "ours",
    name: "edge-2fa (workerd, D1, Durable Objects)",
    hash: `PBKDF2-HMAC-SHA256, ${passwordIterations.toLocaleString("en")} iterations (chained calls of at most 100,000, WebCrypto)`,
    reserve: (count) => Array.from({ length: count }, () => slots.take()),
    // Every login comes from the browser its user set up in (its device cookie): a returning
    // user, the common case. A new browser's second step also records and sends an alert email.
    async login({ user, app }) {
      const client = new Client(base, { browser: user.browser });
      const r = await client.post("/api/auth/login", { email: user.email, password: PASSWORD });
      return r.status === 200 && r.body?.status === "second_factor_required" ? { client, app } : null;
    },
    async verify({ client, app }) {
      const step = stepOf();
      if (step <= app.lastStep) return false;
      const r = await client.post("/api/auth/verify", { method: "totp", code: totpCode(app.secret) });
      app.lastStep = step;
      return r.status === 200 && r.body?.status === "authenticated";
    },
    /** The i-th login of a storm: spread over every user, each from its own client address. */
    async stormLogin(i) {
      const user = users[i % users.length];
      const r = await new Client(base, { browser: user.browser }).post("/api/auth/login", { email: user.email, password: PASSWORD });
      return r.status === 200 && r.body?.status === "second_factor_required";
    },
    cpuSeconds: () => workerdCPU(server.pid).seconds,
    /** Of `cpuSeconds`, wrangler's dev proxy in front of the runtime (bench/lib/cpu.mjs). */
    proxyCpuSeconds: () => workerdCPU(server.pid, port).proxySeconds,
    treeCpuSeconds: () => treeCPU(server.pid).seconds,
    cpuOf: () => `the ${workerdCPU(server.pid).processes.filter((p) => p.comm.startsWith("workerd")).length} \`workerd\` processes of \`wrangler dev\``,
  };
}

/** Better Auth with its twoFactor plugin; it accepts a TOTP code again, so no slots are needed. */
export function betterAuthSide({ key, name, hash, base, server, users }) {
  const login = async (u) => {
    const c = new JarClient(base);
    const r = await c.post("/api/auth/sign-in/email", { email: u.email, password: PASSWORD });
    return r.status === 200 && r.body?.twoFactorRedirect ? { c, u } : null;
  };
  return {
    key,
    name,
    hash,
    reserve: (count) => Array.from({ length: count }, (_, i) => users[i % users.length]),
    login,
    async verify({ c, u }) {
      const v = await c.post("/api/auth/two-factor/verify-totp", { code: totpCode(u.secret) });
      return v.status === 200 && typeof v.body?.token === "string" && [...c.jar.keys()].some((k) => k.endsWith("session_token"));
    },
    stormLogin: async (i) => (await login(users[i % users.length])) !== null,
    cpuSeconds: () => treeCPU(server.pid).seconds,
    // Node serves its own port: no proxy in front.
    proxyCpuSeconds: () => 0,
    treeCpuSeconds: () => treeCPU(server.pid).seconds,
    cpuOf: () => "the `node` process, its thread pool included",
  };
}
