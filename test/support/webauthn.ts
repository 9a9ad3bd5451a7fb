import type { Client } from "./client";
import { newUser, reauth, type TestUser } from "./fixtures";
import { type CeremonyOverrides, SoftAuthenticator } from "./soft-authenticator";

/** Security-key ceremonies over HTTP, answered by the soft authenticator (test/support/soft-authenticator.ts). */

/** Options, then the soft authenticator's answer, then the registration call: the whole ceremony. */
export async function registerKey(client: Client, auth: SoftAuthenticator, o: CeremonyOverrides & { name?: string; skipReauth?: boolean } = {}) {
  if (!o.skipReauth) await reauth(client);
  const options = await client.json("POST", "/api/security/webauthn/options");
  if (options.status !== 200) throw new Error(`registration options: ${options.status} ${JSON.stringify(options.body)}`);
  const response = await auth.register(options.body, o);
  return client.json("POST", "/api/security/webauthn", { name: o.name ?? "My key", response });
}

/** The second step's request options for a client at `second_factor`. */
export async function loginOptions(client: Client) {
  const res = await client.json("POST", "/api/auth/webauthn/options");
  if (res.status !== 200) throw new Error(`login options: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Options, an assertion from `auth`, and the verify call. */
export async function verifyWithKey(client: Client, auth: SoftAuthenticator, o: CeremonyOverrides = {}) {
  const response = await auth.assert(await loginOptions(client), o);
  return client.json("POST", "/api/auth/verify", { method: "webauthn", response });
}

/** A user whose first method is a security key (2FA on, ten backup codes). */
export async function userWithKey(
  opts: { counterStep?: number } = {},
): Promise<{ user: TestUser; auth: SoftAuthenticator; methodId: string; backupCodes: string[] }> {
  const user = await newUser();
  const auth = await SoftAuthenticator.create(opts);
  const reg = await registerKey(user.client, auth);
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  return { user, auth, methodId: reg.body.method.id as string, backupCodes: reg.body.backupCodes as string[] };
}
