import { HTTPException } from "hono/http-exception";
import { AppError, ERRORS } from "./errors";

/**
 * The one place an error becomes an answer: RFC 9457 problem+json, with the
 * contract's code. Anything that is not an AppError is a plain 500 that never
 * carries its message.
 */
export function problem(err: AppError): Response {
  const body: Record<string, unknown> = {
    type: `https://edge-2fa.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
  };
  if (err.errors) body.errors = err.errors;
  const headers: Record<string, string> = { "Content-Type": "application/problem+json" };
  if (err.retryAfter !== undefined) headers["Retry-After"] = String(Math.max(1, Math.ceil(err.retryAfter)));
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/** Maps anything thrown to the contract's error; unknown errors never leak their message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new AppError("payload_too_large");
    if (err.status === 400) return new AppError("invalid_request", "The body is not valid JSON");
    if (err.status === 415) return new AppError("unsupported_media_type");
  }
  return new AppError("internal", "Something went wrong on our side");
}
