// The pages' one way to call the API: JSON in, JSON out, and every RFC 9457
// problem turned into an ApiError. The API speaks English; what a person reads
// comes from the catalogue, chosen by the problem's stable `code`.
import { lang, t } from "./i18n.js";
import { hold } from "./ui.js";

// Emails a request causes are written in the page's language (the switch's
// choice), then the browser's (docs/email.md "Which language").
const acceptLanguage = [lang, ...(navigator.languages ?? []).filter((l) => l !== lang)]
  .slice(0, 10)
  .map((l, i) => (i === 0 ? l : `${l};q=${(1 - i / 10).toFixed(1)}`))
  .join(", ");

export class ApiError extends Error {
  constructor(status, problem = {}, retryAfter = null) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem.code ?? (status === 0 ? "network" : "unknown");
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
    // The last refused second steps before a lock (docs/api.md "Lockout"): tries left, and the lock's length.
    this.attemptsLeft = Number.isInteger(problem.attemptsLeft) ? problem.attemptsLeft : null;
    this.lockSeconds = Number.isInteger(problem.lockSeconds) ? problem.lockSeconds : null;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json", "Accept-Language": acceptLanguage }, credentials: "same-origin" };
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
    if (res.status === 401 && data?.code === "unauthenticated") sessionEnded();
    const retry = Number(res.headers.get("Retry-After"));
    throw new ApiError(res.status, data ?? {}, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  return data;
}

/**
 * "30 seconds", "5 minutes", "16 hours": how long to wait, in words. From two
 * hours on in whole hours, rounded up (a person reads "960 minutes" as a
 * number to work out, and a wait said too short sends them back too early).
 */
export function waitText(seconds) {
  if (!seconds) return t("wait.aWhile");
  if (seconds < 90) return t("wait.seconds", { count: Math.ceil(seconds) });
  if (seconds < 2 * 3600) return t("wait.minutes", { count: Math.ceil(seconds / 60) });
  return t("wait.hours", { count: Math.ceil(seconds / 3600) });
}

// Fields the API validates, by the path it reports (docs/api.md); anything else gets the general sentence.
const FIELDS = new Set(["email", "password", "name", "community", "code", "role", "method"]);

/**
 * Words for a person, never a raw code. `context` maps a code to better words
 * for this place (a string, or a function of the error).
 */
export function describe(err, context = {}) {
  if (!(err instanceof ApiError)) return t("errors.page");
  const special = context[err.code];
  if (special) return typeof special === "function" ? special(err) : special;
  if (err.code === "invalid_request" && err.errors.length) {
    const paths = [...new Set(err.errors.map((e) => e.path))];
    return paths.map((p) => t(FIELDS.has(p) ? `errors.field.${p}` : "errors.field.other")).join(" ");
  }
  if (err.code === "too_many_attempts") return t("errors.too_many_attempts", { wait: waitText(err.retryAfter) });
  const key = `errors.${err.code}`;
  const text = t(key);
  return text === key ? t("errors.unknown", { status: err.status }) : text;
}

// What the login page says when it is reached (docs/pages.md "Said once,
// where the person lands"). Kept for this tab only, and holding no secret: a
// word, never in the address. `HAD_SESSION` marks a tab that was logged in, so
// a 401 there means the session ended since, while a first visit says nothing.
const HAD_SESSION = "hadSession";
const ARRIVAL = "loginNotice";

function sessionEnded() {
  if (sessionStorage.getItem(HAD_SESSION) === null) return;
  sessionStorage.removeItem(HAD_SESSION);
  sessionStorage.setItem(ARRIVAL, "signedOut");
}

/** Once, what the login page should say on arrival: `"signedOut"`, `"loggedOut"` or null. */
export function takeArrivalNotice() {
  const notice = sessionStorage.getItem(ARRIVAL);
  sessionStorage.removeItem(ARRIVAL);
  return notice;
}

/** This tab's session was ended by the person here (the sessions list's "this browser"): a log out. */
export function endedHere() {
  sessionStorage.removeItem(HAD_SESSION);
  sessionStorage.setItem(ARRIVAL, "loggedOut");
}

/** Where the caller stands: `{ me }`, or `{ stage }` when not fully in, or `{ error }`. */
export async function whoAmI() {
  try {
    const me = await api("GET", "/api/me");
    sessionStorage.setItem(HAD_SESSION, "1");
    return { me };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return { stage: "none" };
    if (err instanceof ApiError && err.code === "second_factor_required") return { stage: "second_factor" };
    return { error: err };
  }
}

/**
 * Ends the session and goes to the login page. The button that asked stays
 * busy until the page is left (given back, it could send a second logout in
 * the moment before the new page loads).
 */
export async function logOut(event) {
  if (event?.currentTarget instanceof HTMLButtonElement) hold(event.currentTarget);
  sessionStorage.clear();
  try {
    await api("POST", "/api/auth/logout");
  } catch {
    // Logout always answers 204; a network failure still leaves the page.
  }
  endedHere();
  location.assign("/");
}
