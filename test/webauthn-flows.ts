import { Client, PASSWORD, reauth, type TestUser } from "./helpers";
import { type CeremonyOverrides, SoftAuthenticator } from "./soft-authenticator";

/** Options, then the soft authenticator's answer, then the registration call: the whole ceremony over HTTP. */
export async function registerKey(client: Client, auth: SoftAuthenticator, o: CeremonyOverrides & { name?: string; skipReauth?: boolean } = {}) {
  if (!o.skipReauth) await reauth(client);
  const options = await client.json("POST", "/api/security/webauthn/options");
  if (options.status !== 200) throw new Error(`registration options: ${options.status} ${JSON.stringify(options.body)}`);
  const response = await auth.register(options.body, o);
  return client.json("POST", "/api/security/webauthn", { name: o.name ?? "My key", response });
}

/** A fresh client that has passed the password step of a user with 2FA on. */
export async function secondStep(user: Pick<TestUser, "email">): Promise<Client> {
  const client = new Client();
  const login = await client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  if (login.body?.status !== "second_factor_required") throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
  return client;
}

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
export async function userWithKey(newUser: () => Promise<TestUser>, opts: { counterStep?: number } = {}) {
  const user = await newUser();
  const auth = await SoftAuthenticator.create(opts);
  const reg = await registerKey(user.client, auth);
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
  return { user, auth, methodId: reg.body.method.id as string, backupCodes: reg.body.backupCodes as string[] };
}
