import * as OTPAuth from "otpauth";
import { renderSVG } from "uqr";
import type { Env } from "../../env";
import type { SessionCaller } from "../../guard/types";
import type { UserGuard } from "../../guard/user-guard";
import { refused } from "../../http/refused";
import { DIGITS, PERIOD_SECONDS } from "./totp";

/**
 * Starts an authenticator-app enrollment: the guard makes and encrypts the
 * secret; here it becomes the key for manual entry, the otpauth:// URI
 * (SHA1, 6 digits, 30 s: what every app supports) and the same URI as a QR code.
 * This is the only time the secret leaves the guard.
 */
export async function totpEnrollment(env: Env, guard: DurableObjectStub<UserGuard>, caller: SessionCaller, name: string) {
  const outcome = await guard.startTOTP(caller, name);
  if (!outcome.ok) refused(outcome);
  const secret = new OTPAuth.Secret({ buffer: outcome.secret.slice().buffer });
  const totp = new OTPAuth.TOTP({ issuer: env.ISSUER, label: caller.user.email, algorithm: "SHA1", digits: DIGITS, period: PERIOD_SECONDS, secret });
  const uri = totp.toString();
  return { id: outcome.id, secret: secret.base32, uri, qrSvg: renderSVG(uri, { border: 2 }) };
}
