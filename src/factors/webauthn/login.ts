import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { SessionCaller, VerifyResult } from "../../guard/types";
import type { UserGuard } from "../../guard/user-guard";
import { AppError } from "../../http/errors";
import { refused } from "../../http/refused";
import { authenticationOptions } from "./authentication";
import { relyingParty } from "./config";

/**
 * Request options for the second step: this user's keys, a fresh challenge
 * stored in the user's guard (single use, 5 minutes).
 */
export async function webAuthnLoginOptions(c: Context<AppEnv>, guard: DurableObjectStub<UserGuard>, caller: SessionCaller): Promise<Record<string, unknown>> {
  // First: without a configured relying party this fails closed before a challenge is stored.
  const rp = relyingParty(c.env, c.get("meta"));
  const outcome = await guard.webAuthnChallenge(caller, "authentication");
  if (!outcome.ok) refused(outcome);
  if (outcome.keys.length === 0) throw new AppError("method_not_enrolled", "No security key is set up");
  const options = await authenticationOptions(rp, outcome.challenge, outcome.keys);
  return options as unknown as Record<string, unknown>;
}

/** The assertion is checked inside the guard, which claims its challenge before verifying it. */
export function verifyWebAuthnAssertion(
  c: Context<AppEnv>,
  guard: DurableObjectStub<UserGuard>,
  caller: SessionCaller,
  response: Record<string, unknown>,
): Promise<VerifyResult> {
  return guard.verifyWebAuthn(caller, response, relyingParty(c.env, c.get("meta")));
}
