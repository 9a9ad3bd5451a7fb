import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { Caller, VerifyResult } from "../../guard/types";
import type { UserGuard } from "../../guard/user-guard";
import { AppError } from "../../http/errors";

// Placeholder until the security-key issue lands: no key can be registered yet,
// so there is nothing to assert against.
export async function webAuthnLoginOptions(_c: Context<AppEnv>, _guard: DurableObjectStub<UserGuard>, _caller: Caller): Promise<Record<string, unknown>> {
  throw new AppError("method_not_enrolled", "No security key is set up");
}

export async function verifyWebAuthnAssertion(
  _c: Context<AppEnv>,
  _guard: DurableObjectStub<UserGuard>,
  _caller: Caller,
  _response: Record<string, unknown>,
): Promise<VerifyResult> {
  return { ok: false, reason: "invalid" };
}
