// The pages' one way to call the API: JSON in, JSON out, and every RFC 9457
// problem turned into an ApiError whose message a person can read.

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem.code ?? (status === 0 ? "network" : "unknown");
    this.detail = problem.detail ?? "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {});
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const retry = Number(res.headers.get("Retry-After"));
    throw new ApiError(res.status, data ?? {}, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return data;
}

// Field names as the forms call them, for validation messages.
const FIELDS = {
  email: "Email",
  password: "Password",
  name: "Name",
  community: "Community name",
  code: "Code",
  role: "Role",
};

function waitText(seconds) {
  if (!seconds) return "a while";
  if (seconds < 90) return `${Math.ceil(seconds)} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** Words for a person, never a raw code. `context` lets a page say it better. */
export function describe(err, context = {}) {
  if (!(err instanceof ApiError)) return "Something went wrong in this page. Reload and try again.";
  if (context[err.code]) return typeof context[err.code] === "function" ? context[err.code](err) : context[err.code];
  switch (err.code) {
    case "network":
      return "Could not reach the server. Check your connection and try again.";
    case "invalid_request": {
      if (err.errors.length) {
        return err.errors.map((e) => `${FIELDS[e.path] ?? "This field"} ${e.message}.`).join(" ");
      }
      return err.detail || "Some of the information is not valid.";
    }
    case "invalid_credentials":
      return "The email or password is wrong.";
    case "invalid_code":
      return "That code was not accepted. Check it and try again.";
    case "unauthenticated":
      return "You are not logged in (or your session ended). Log in again.";
    case "second_factor_required":
      return "Finish logging in with your second step first.";
    case "enrollment_required":
      return "Set up a new two-factor method before doing anything else.";
    case "reauth_required":
      return "For your safety, enter your password again to make this change.";
    case "forbidden":
      return err.detail || "You are not allowed to do that.";
    case "csrf":
      return "The request was refused because it came from another site. Reload this page and try again.";
    case "not_found":
      return err.detail || "That no longer exists. Reload the page.";
    case "email_taken":
      return "An account with this email already exists. Log in instead.";
    case "last_method":
      return "This is your only two-factor method, so it cannot be removed. Add another method first, or turn off two-factor authentication.";
    case "method_not_enrolled":
      return "Set up that kind of method before making it your preferred one.";
    case "already_member":
      return "This person is already a member of the community.";
    case "credential_exists":
      return "This security key is already registered.";
    case "payload_too_large":
      return "That is too much text. Shorten it and try again.";
    case "too_many_attempts":
      return `Too many attempts. Wait ${waitText(err.retryAfter)} and try again.`;
    case "internal":
      return "Something went wrong on our side. Try again in a moment.";
    default:
      return err.message;
  }
}

/** Where the caller stands: `{ me }`, or `{ stage }` when not fully in, or `{ error }`. */
export async function whoAmI() {
  try {
    return { me: await api("GET", "/api/me") };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { stage: "none" };
    if (err instanceof ApiError && err.code === "second_factor_required") return { stage: "second_factor" };
    return { error: err };
  }
}

export async function logOut() {
  sessionStorage.clear();
  try {
    await api("POST", "/api/auth/logout");
  } catch {
    // Logout always answers 204; a network failure still leaves the page.
  }
  location.assign("/");
}
