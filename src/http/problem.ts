import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import type { AppEnv } from "../env";
import { AppError, ERRORS } from "./errors";

/**
 * The one place an error becomes an answer: RFC 9457 problem+json, with the
 * contract's code. Anything that is not an AppError is a plain 500 that never
 * carries its message. A 500 names the request's id (`requestId`, an
 * extension member) so a report can be matched to its log line.
 */
export function problem(err: AppError, requestId?: string): Response {
  const body: Record<string, unknown> = {
    // First, so a standard member can never be overwritten by one.
    ...err.extensions,
    type: `https://edge-2fa.dev/problems/${err.code.replaceAll("_", "-")}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
  };
  if (err.errors) body.errors = err.errors;
  if (err.status >= 500 && requestId) body.requestId = requestId;
  const headers: Record<string, string> = { "Content-Type": "application/problem+json" };
  if (requestId) headers["X-Request-Id"] = requestId;
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

/** Methods a route can be registered for; any other spelling is logged as "other". */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * `onError`: answers with the problem and writes the operators' one line, with
 * the request's id. An unknown error's line is fixed text only: its class and
 * the route pattern as registered (`/api/communities/:cid/…`), never its
 * message (a driver may echo the values it was given), the path (ids,
 * mistyped tokens) or anything else the request carried: a log line must never
 * hold a password, code or token. An AppError is logged only when it carries
 * a line of its own (a missing setting, src/http/public-origin.ts); the
 * router's refusals of a client's body (400, 413, 415) not at all.
 */
export function answerError(err: Error, c: Context<AppEnv>): Response {
  const appError = toAppError(err);
  const requestId = c.get("requestId") as string | undefined;
  const line = logLine(err, appError, c);
  if (line) console.error(`${line} (request ${requestId ?? "none"})`);
  return problem(appError, requestId);
}

function logLine(err: Error, appError: AppError, c: Context<AppEnv>): string | undefined {
  if (err instanceof AppError) return appError.log;
  // The router's refusal of a client's body (malformed JSON, too big, wrong type) maps to a 4xx: answered, not ours to log.
  if (appError.code !== "internal") return undefined;
  const method = METHODS.has(c.req.method) ? c.req.method : "other";
  return `internal error in ${method} ${routePath(c, -1)}: ${err.constructor.name}`;
}
