/** Every error code of the contract, with its status and a human title. */
export const ERRORS = {
  invalid_request: { status: 400, title: "Invalid request" },
  invalid_code: { status: 401, title: "Invalid code" },
  invalid_credentials: { status: 401, title: "Invalid email or password" },
  unauthenticated: { status: 401, title: "Not logged in" },
  second_factor_required: { status: 403, title: "Second factor required" },
  enrollment_required: { status: 403, title: "Set up a new two-factor method first" },
  reauth_required: { status: 403, title: "Password confirmation required" },
  forbidden: { status: 403, title: "Forbidden" },
  csrf: { status: 403, title: "Cross-site request refused" },
  not_found: { status: 404, title: "Not found" },
  email_taken: { status: 409, title: "Email already registered" },
  last_method: { status: 409, title: "Cannot remove the last method" },
  method_not_enrolled: { status: 409, title: "Method not set up" },
  already_member: { status: 409, title: "Already a member" },
  credential_exists: { status: 409, title: "Security key already registered" },
  invalid_token: { status: 400, title: "Invalid or expired link" },
  email_unverified: { status: 403, title: "Email address not verified" },
  two_factor_required: { status: 403, title: "Two-factor authentication required" },
  last_admin: { status: 409, title: "The last admin cannot leave" },
  payload_too_large: { status: 413, title: "Request body too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  too_many_attempts: { status: 429, title: "Too many attempts" },
  internal: { status: 500, title: "Internal error" },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

/**
 * RFC 9457 §3.2 extension members some problems carry beyond the standard ones.
 * `attemptsLeft` and `lockSeconds`: the last refused second steps before a lock (docs/api.md "Lockout").
 */
export interface ProblemExtensions {
  attemptsLeft?: number;
  lockSeconds?: number;
}

/** The one error type of the service; `onError` renders it as RFC 9457 (src/http/problem.ts). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly errors: FieldError[] | undefined;
  readonly extensions: ProblemExtensions | undefined;
  /** A fixed line for the operators' log, written with the request's id when the error is answered; never anything the request carried. */
  readonly log: string | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { status?: number; retryAfter?: number; errors?: FieldError[]; extensions?: ProblemExtensions; log?: string } = {},
  ) {
    super(detail ?? ERRORS[code].title);
    this.code = code;
    this.status = options.status ?? ERRORS[code].status;
    this.retryAfter = options.retryAfter;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.log = options.log;
  }
}
