import type { Outcome } from "../guard/types";
import { AppError } from "./errors";

/** The guard refused: turn its reason into the contract's error. */
export function refused(outcome: Extract<Outcome<object>, { ok: false }>): never {
  switch (outcome.reason) {
    case "not_found":
      throw new AppError("not_found", "No such method");
    case "last_method":
      throw new AppError("last_method", "This is your last method; disable two-factor authentication instead");
    case "not_enrolled":
      throw new AppError("method_not_enrolled", "Set up a method of this type first");
    case "stale_session":
      throw new AppError("unauthenticated", "This session has ended; log in again");
    case "wrong_stage":
      throw new AppError("forbidden", "This session cannot make this change");
    case "exists":
      throw new AppError("credential_exists", "This security key is already registered");
    default:
      throw new AppError("invalid_code", "That code is not right", { status: 400 });
  }
}
