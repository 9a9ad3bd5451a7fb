import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { Client, ORIGIN } from "./client";

/** The token the test Worker is configured with (vitest.config.ts). */
export const OPS_TOKEN = (env as { OPS_TOKEN?: string }).OPS_TOKEN ?? "";

/** The operator's reset as `npm run ops` sends it, from its own address. */
export function opsReset(email: unknown, token: string | null = OPS_TOKEN, ip = "192.0.2.10"): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/json", "CF-Connecting-IP": ip };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  return SELF.fetch(`${ORIGIN}/api/ops/reset-2fa`, { method: "POST", headers, body: JSON.stringify({ email }) });
}

/** The same request to a Worker deployed without the OPS_TOKEN secret. */
export function opsResetWithoutSecret(email: string): Promise<Response> {
  return opsResetWithSecret(email, undefined);
}

/** The request with `token` to a Worker whose OPS_TOKEN secret is `secret` (undefined: none). */
export async function opsResetWithSecret(email: string, secret: string | undefined, token = OPS_TOKEN, ip = "192.0.2.11"): Promise<Response> {
  const { OPS_TOKEN: _configured, ...rest } = env as unknown as Record<string, unknown>;
  const deployed = secret === undefined ? rest : { ...rest, OPS_TOKEN: secret };
  const ctx = createExecutionContext();
  const req = new Request(`${ORIGIN}/api/ops/reset-2fa`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip },
    body: JSON.stringify({ email }),
  });
  const res = await worker.fetch(req, deployed as never, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A client that carries the operator's bearer token on every request, as `npm run ops` does. */
export function operatorClient(ip = "192.0.2.20"): Client {
  const client = new Client(ip);
  const request = client.request.bind(client);
  client.request = (method, path, body, headers = {}) => request(method, path, body, { Authorization: `Bearer ${OPS_TOKEN}`, ...headers });
  return client;
}
