import type { Env, RequestMeta } from "../env";
import { AppError } from "../http/errors";
import { sha256Hex } from "../lib/sha256";
import { clientAddress } from "./client-address";
import { deviceFor } from "./device";
import { CLIENT_POLICY, EMAIL_POLICY } from "./limits";
import { dummyHash, hashPassword, passwordParams, verifyPassword } from "./passwords";
import { findUserByEmail, type UserRow } from "./store";
import { takeTokens } from "./throttle";

/**
 * Checks an email and password, slowed per email and per client. Unknown
 * emails are verified against a dummy hash of the same cost, and both failures
 * throw the same error, so neither the answer nor its time tells which emails
 * exist. Returns the user and, when the hash's cost is out of date, a new hash.
 *
 * A browser holding a device cookie for this email (src/auth/device.ts) spends
 * tokens from its own bucket instead of the email's shared one: failures from
 * elsewhere cannot keep the account's own devices out.
 */
export async function checkPassword(
  env: Env,
  meta: RequestMeta,
  email: string,
  password: string,
  deviceToken: string | null = null,
): Promise<{ user: UserRow; rehash: string | null; device: string | null }> {
  const now = Date.now();
  const device = await deviceFor(env, deviceToken, email);
  const refund = await takeTokens(
    env,
    [
      { key: device ? `device:${device}` : `email:${sha256Hex(email)}`, policy: EMAIL_POLICY },
      { key: `client:${clientAddress(meta.ip)}`, policy: CLIENT_POLICY },
    ],
    now,
    "Too many failed logins; wait before trying again",
  );
  const params = passwordParams(env);
  const user = await findUserByEmail(env.DB, email);
  const check = await verifyPassword(password, user?.password_hash ?? dummyHash(params), params);
  if (!user || !check.ok) throw new AppError("invalid_credentials", "The email or password is wrong");
  await refund();
  return { user, rehash: check.needsRehash ? await hashPassword(password, params) : null, device };
}
