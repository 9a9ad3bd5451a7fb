import type { Env, RequestMeta } from "../env";
import { guardFor } from "../guard/user-guard";
import { AppError } from "../http/errors";
import { publicOrigin } from "../http/public-origin";
import { sha256Hex } from "../lib/sha256";
import { emailLang, storedLang } from "../notify/language";
import { deviceLinkMail } from "../notify/templates";
import { clientAddress } from "./client-address";
import { deviceFor } from "./device";
import { CLIENT_POLICY, EMAIL_POLICY } from "./limits";
import { dummyHash, passwordGeneration, passwordParams, rehashPassword, verifyPassword } from "./passwords";
import type { UserRow } from "./store";
import { tryTakeTokens } from "./throttle";

/**
 * Checks an email and password, slowed per email and per client. Unknown
 * emails are verified against a dummy hash of the same cost, and both failures
 * throw the same error, so neither the answer nor its time tells which emails
 * exist. Returns the user and, when the hash's cost is out of date, a new hash.
 *
 * A browser holding a device cookie for this email and its current password
 * (src/auth/device.ts) spends tokens from its own bucket instead of the
 * email's shared one: failures from elsewhere cannot keep the account's own
 * devices out, and a browser known before a password change or reset is not
 * one of them any more (docs/security.md R10d).
 *
 * `find` reads the user's row, the one D1 read before the hash: the login
 * reads what it decides with in the same statement (`findLoginUser`), a
 * password change only the row (`findUserByEmail`). It comes first, before
 * the throttle, because the device cookie is checked against the row's
 * password generation and the bucket depends on that check; known and unknown
 * emails both pay it, and an unknown email's cookie is checked all the same
 * (against no generation), so neither the answers nor the work tell them apart.
 *
 * `generation` is the password generation a device token minted after this
 * check must carry: the row's, which a re-hash keeps (`rehashPassword`), so
 * the account's browsers stay known when the cost is raised.
 */
export async function checkPassword<U extends UserRow>(
  env: Env,
  meta: RequestMeta,
  email: string,
  password: string,
  find: (db: D1Database, email: string) => Promise<U | null>,
  deviceToken: string | null = null,
  /** Runs work after the answer (executionCtx.waitUntil); with it, an owner kept out by an empty email bucket is emailed a device link. */
  later?: (work: Promise<unknown>) => void,
): Promise<{ user: U; rehash: string | null; device: string | null; generation: string }> {
  const now = Date.now();
  const user = await find(env.DB, email);
  const device = await deviceFor(env, deviceToken, email, user ? passwordGeneration(user.password_hash) : null);
  const emailKey = device ? `device:${device}` : `email:${sha256Hex(email)}`;
  const taken = await tryTakeTokens(
    env,
    [
      { key: emailKey, policy: EMAIL_POLICY },
      { key: `client:${clientAddress(meta.ip)}`, policy: CLIENT_POLICY },
    ],
    now,
  );
  if (!taken.ok) {
    const detail = "Too many failed logins; wait before trying again";
    // Only the email's shared bucket is empty and this browser is not one of the account's:
    // the attempt still runs, after the answer, and a right password emails the owner a
    // device link. The client's token stays spent, so these checks are slowed per client.
    if (later && !device && taken.empty.length === 1 && taken.empty[0] === emailKey) {
      later(offerDeviceLink(env, meta, user, password).catch(() => undefined));
    } else {
      await taken.giveBack();
    }
    throw new AppError("too_many_attempts", detail, { retryAfter: taken.retryAfter });
  }
  const refund = taken.refund;
  const params = passwordParams(env);
  const check = await verifyPassword(password, user?.password_hash ?? dummyHash(params), params);
  if (!user || !check.ok) throw new AppError("invalid_credentials", "The email or password is wrong");
  await refund();
  const rehash = check.needsRehash ? await rehashPassword(password, user.password_hash, params) : null;
  return { user, rehash, device, generation: passwordGeneration(user.password_hash) };
}

/**
 * The owner is never kept out (docs/api.md "Email ownership, passwords and
 * sessions"): a right password from a browser without a device cookie, while
 * the email's bucket is empty, emails a one-time link (15 minutes, at most one
 * every few minutes per account) that gives that browser its own bucket. Runs
 * after the 429 is answered, so the answer's time says nothing about the
 * password; a wrong password sends nothing. `user` is the row the password
 * step read (null for an unknown email, which still costs the hash).
 */
async function offerDeviceLink(env: Env, meta: RequestMeta, user: UserRow | null, password: string): Promise<void> {
  const params = passwordParams(env);
  const check = await verifyPassword(password, user?.password_hash ?? dummyHash(params), params);
  if (!user || !check.ok) return;
  const who = { id: user.id, email: user.email, name: user.name };
  // Not yet proven the owner (the second step has not run): the owner's stored language, else the request's.
  const lang = emailLang(meta.lang, { stored: storedLang(user.lang), ownProvenRequest: false });
  const caller = { user: who, ip: meta.ip, userAgent: meta.userAgent, now: Date.now(), requestId: meta.requestId, lang };
  const content = deviceLinkMail({ origin: publicOrigin(env, meta), at: caller.now }, lang);
  await guardFor(env, user.id).issueToken(caller, "device_link", { ...content, template: "device_link" });
}
