import { MAX_METHODS } from "../guard/enroll";
import type { Outcome, Refusal } from "../guard/types";
import { AppError, type ProblemExtensions } from "./errors";

/** Every way the guard says no: a verification's refusal or a change's. */
export type GuardRefusal = Refusal | Extract<Outcome<object>, { ok: false }>;

/**
 * The one place a guard's refusal becomes the contract's error, for every
 * route. `during` tells a login's second step from a change to the account:
 * there a code that is not accepted is `401 invalid_code` (the caller is not
 * logged in), elsewhere `400 invalid_code` (the caller is, and sent a wrong
 * confirmation code); the words differ in the same way.
 */
export function refused(outcome: GuardRefusal, during: "login" | "change" = "change"): never {
  const login = during === "login";
  switch (outcome.reason) {
    case "locked":
      throw new AppError("too_many_attempts", "Too many wrong codes; two-factor login is locked for a while", { retryAfter: outcome.retryAfter });
    case "not_found":
      throw new AppError("not_found", "No such method");
    case "last_method":
      throw new AppError("last_method", "This is your last method; disable two-factor authentication instead");
    case "not_enrolled":
      throw new AppError("method_not_enrolled", "Set up a method of this type first");
    case "stale_session":
      throw new AppError("unauthenticated", login ? "This login has ended; log in again" : "This session has ended; log in again");
    case "wrong_stage":
      throw new AppError("forbidden", "This session cannot make this change");
    case "too_many":
      throw new AppError("forbidden", `An account may have at most ${MAX_METHODS} authenticator apps and security keys; remove one first`);
    case "exists":
      throw new AppError("credential_exists", "This security key is already registered");
    case "unsettled":
      throw new AppError("internal", "The security key could not be registered just now; nothing was kept, please try again", {
        log: "security key registration: D1 did not answer the credential id's claim; the claim is being taken back",
      });
    case "invalid":
      if (login) throw notAccepted("attemptsLeft" in outcome ? outcome : {});
      throw new AppError("invalid_code", "That code is not right", { status: 400 });
  }
}

/**
 * A second step's wrong code or key: always `401 invalid_code`. The last refusals
 * before a lock add how many attempts are left and the lock's length; the one
 * that sets the lock (none left) also carries Retry-After, as the 429s after it
 * will (docs/api.md "Lockout").
 */
function notAccepted({ attemptsLeft, lockSeconds }: ProblemExtensions): AppError {
  if (attemptsLeft === undefined) return new AppError("invalid_code", "That code or key was not accepted", { status: 401 });
  const extensions = { attemptsLeft, lockSeconds };
  if (attemptsLeft > 0) {
    const tries = attemptsLeft === 1 ? "1 attempt" : `${attemptsLeft} attempts`;
    return new AppError("invalid_code", `That code or key was not accepted; ${tries} left before two-factor login locks`, { status: 401, extensions });
  }
  return new AppError("invalid_code", "That code or key was not accepted; two-factor login is now locked for a while", {
    status: 401,
    extensions,
    retryAfter: lockSeconds,
  });
}
