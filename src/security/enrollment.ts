import type { Context } from "hono";
import { renderSVG } from "uqr";
import { markKnownDevice } from "../auth/device";
import { passwordGeneration } from "../auth/passwords";
import { advanceSession, renewAtEpoch, sessionMoved, setSessionCookie } from "../auth/session-store";
import { passwordHashStatement } from "../auth/store";
import type { AppEnv, Env } from "../env";
import { otpauthURI } from "../factors/totp/otpauth-uri";
import type { MethodConfirmed, MethodView, SessionCaller } from "../guard/types";
import type { UserGuard } from "../guard/user-guard";
import { AppError } from "../http/errors";
import { refused } from "../http/refusals";
import type { Session } from "../session";

/**
 * Starts an authenticator-app enrollment: the guard makes and encrypts the
 * secret; here it becomes the key for manual entry, the otpauth:// URI
 * (SHA1, 6 digits, 30 s: what every app supports) and the same URI as a QR code.
 * This is the only time the secret leaves the guard.
 */
export async function startAuthenticatorApp(env: Env, guard: DurableObjectStub<UserGuard>, caller: SessionCaller, name: string) {
  const outcome = await guard.startTOTP(caller, name);
  if (!outcome.ok) refused(outcome);
  const { uri, key } = otpauthURI({ issuer: env.ISSUER, account: caller.user.email, secret: outcome.secret });
  return { id: outcome.id, secret: key, uri, qrSvg: renderSVG(uri, { border: 2 }) };
}

/**
 * Every confirmed method answers the same way, app or key. An `enrollment`
 * session becomes `authenticated` with its first one; a confirmation that
 * turned 2FA on moves the caller's session to the new epoch (every other one
 * is dead). Either way the session continues under a new token.
 */
export async function finishEnrollment<S extends 200 | 201 = 200>(c: Context<AppEnv>, session: Session, confirmed: MethodConfirmed, status: S = 200 as S) {
  const epoch = confirmed.epoch ?? session.epoch;
  let renewed: { token: string; statement: D1PreparedStatement } | null = null;
  if (session.stage === "enrollment") renewed = advanceSession(c.env.DB, session, "authenticated", Date.now(), epoch);
  else if (confirmed.epoch !== null) renewed = renewAtEpoch(c.env.DB, session, confirmed.epoch);
  if (renewed) {
    // An enrollment's device token carries the password's generation, read in the batch that moves the session: a
    // change or reset after the move ends this session and leaves the token worthless, as it should.
    const [result, stored] = await c.env.DB.batch(
      session.stage === "enrollment" ? [renewed.statement, passwordHashStatement(c.env.DB, session.user.id)] : [renewed.statement],
    );
    // The session may have ended meanwhile (logged out, or another change ended it): no cookie for nothing.
    if (!sessionMoved(result)) throw new AppError("unauthenticated", "This session has ended; log in again with your new method");
    setSessionCookie(c, renewed.token, "authenticated");
    // An enrollment session's first method completes its login: the browser is now one of the account's devices.
    const hash = (stored?.results[0] as { password_hash: string } | undefined)?.password_hash;
    if (session.stage === "enrollment" && hash) await markKnownDevice(c, session.user.email, passwordGeneration(hash));
  }
  const body: { method: MethodView; backupCodes?: string[] } = { method: confirmed.method };
  if (confirmed.backupCodes) body.backupCodes = confirmed.backupCodes;
  return c.json(body, status);
}
