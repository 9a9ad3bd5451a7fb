import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../env";
import { authenticationOptions } from "../factors/webauthn/authentication";
import { responseFields } from "../factors/webauthn/response-fields";
import type { HalfSession, LoginState, StepAttempt, VerifyResult } from "../guard/types";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { relyingParty } from "../http/public-origin";
import { refused } from "../http/refusals";
import { BackupCode, Email, json, jsonBody, Name, NewPassword, Password, problems, RecoveryCode, TOTPCode, User } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { sha256Hex } from "../lib/sha256";
import { storedLang } from "../notify/language";
import { HALF_SESSION_MS, isSecondStepStage, type Stage } from "../session";
import { clientAddress } from "./client-address";
import { markKnownDevice, mintDeviceToken, readDeviceCookie, setDeviceCookie } from "./device";
import { halfTokenOwner, mintHalfToken } from "./half-token";
import { SIGNUP_CLIENT_POLICY, SIGNUP_EMAIL_POLICY } from "./limits";
import { alertNewBrowser } from "./new-browser";
import { checkPassword } from "./password-check";
import { passwordParams } from "./passwords";
import { rememberThisBrowser } from "./remember-browser";
import { requireSecondStep, requireStage, sessionOf } from "./session-middleware";
import { advanceSession, clearSessionCookie, deleteDeadSessions, deleteSession, insertSession, sessionMoved, setSessionCookie } from "./session-store";
import { createAccount, findLoginUser, languageStatement, loggedInStatement, rehashStatement } from "./store";
import { takeTokens } from "./throttle";
import { clearTrustedCookie, trustedHashFor } from "./trusted-cookie";
import { sendVerificationLink } from "./verification";

export const authRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const SignupBody = z.object({ email: Email, password: NewPassword, name: Name, community: Name.optional() }).openapi("SignupRequest");

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/signup",
    tags: ["auth"],
    summary: "Create an account (optionally with a community it administers)",
    request: jsonBody(SignupBody),
    responses: { 201: json(z.object({ user: User }), "Created"), ...problems(400, 409, 413, 415, 429) },
  }),
  async (c) => {
    const body = c.req.valid("json");
    // Every signup costs a password hash and may answer 409: slowed per client and per email, never refunded.
    await takeTokens(
      c.env,
      [
        { key: `signup-client:${clientAddress(c.get("meta").ip)}`, policy: SIGNUP_CLIENT_POLICY },
        { key: `signup-email:${sha256Hex(body.email)}`, policy: SIGNUP_EMAIL_POLICY },
      ],
      Date.now(),
      "Too many signups; wait before trying again",
    );
    const { user } = await createAccount(c.env.DB, body, passwordParams(c.env), c.get("meta"));
    // The account exists; proving the address is a link away (an invitation needs it).
    await sendVerificationLink(c, user);
    return c.json({ user }, 201);
  },
);

const LoginBody = z.object({ email: Email, password: Password }).openapi("LoginRequest");
const LoginAnswer = z.object({
  status: z.enum(["authenticated", "second_factor_required", "recovery_code_required", "enrollment_required"]),
  methods: z.array(z.enum(["totp", "webauthn", "backup_code", "recovery_code"])).optional(),
  preferred: z.enum(["totp", "webauthn"]).nullable().optional(),
  trustedBrowser: z.literal(true).optional().openapi({ description: "A remembered browser skipped the second step" }),
});

const STATUS: Record<Stage, z.infer<typeof LoginAnswer>["status"]> = {
  authenticated: "authenticated",
  second_factor: "second_factor_required",
  recovery: "recovery_code_required",
  enrollment: "enrollment_required",
};

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/login",
    tags: ["auth"],
    summary: "Check email and password; start the second step when 2FA is on",
    request: jsonBody(LoginBody),
    responses: { 200: json(LoginAnswer, "Logged in or half-way"), ...problems(400, 401, 413, 415, 429) },
  }),
  async (c) => {
    const { email, password } = c.req.valid("json");
    const meta = c.get("meta");
    // The user's row comes with what the steps below decide with (findLoginUser): no D1 read after the hash. It is read
    // before the guard call and this login's own writes; why that is early enough: docs/security.md "What the password
    // step reads, and when".
    const { user, rehash, device, generation } = await checkPassword(c.env, meta, email, password, findLoginUser, readDeviceCookie(c), (work) =>
      c.executionCtx.waitUntil(work),
    );
    // A remembered browser (its token names this user) may stand in for the second step, if every community allows it.
    const trustedHash = trustedHashFor(c, user.id);
    const trustAllowed = trustedHash !== null && user.trustedBrowsersAllowed;
    // Read before this login's own `logged_in` event is written: the first full login after signup alerts nobody.
    const newBrowser = !device && user.loggedInBefore;
    const now = Date.now();
    // Should the login stop at the second step, the guard keeps the half session for it, under this token's id.
    const half = await mintHalfToken(c.env, user.id);
    const start = {
      id: half.id,
      expiresAt: now + HALF_SESSION_MS,
      user: { id: user.id, email: user.email, name: user.name },
      lang: storedLang(user.lang),
      newBrowser,
      // The second step reads no user row: the password generation its device token must carry comes with the half session.
      deviceGeneration: generation,
    };
    // The password was checked against the hash D1 held at this epoch: the guard opens the session at no later one.
    const state = await guardFor(c.env, user.id).loginState(callerOf(c, user), trustAllowed ? trustedHash : null, start, user.session_epoch);
    // This user's token that did not count (forgotten, expired, or not allowed) is dead: the browser need not keep it.
    if (trustedHash && !state.trustedBrowser) clearTrustedCookie(c);
    // A remembered browser means the account has 2FA: no policy can be due.
    const stage = state.trustedBrowser ? state.stage : policyStage(user.requiredBy, state.stage, now);
    const { token, statement } = insertSession(c.env.DB, {
      userId: user.id,
      stage,
      epoch: state.epoch,
      meta,
      now,
      newBrowser,
      half: isSecondStepStage(stage) ? half : undefined,
    });
    // Dead rows go before the new one enters: they are not counted among the sessions the account keeps.
    const batch = [deleteDeadSessions(c.env.DB, user.id, now), statement];
    const previous = c.get("session");
    if (previous) batch.push(deleteSession(c.env.DB, previous.id));
    if (rehash) batch.push(rehashStatement(c.env.DB, user.id, rehash, user.password_hash));
    if (stage === "authenticated")
      batch.push(
        loggedInStatement(c.env.DB, user.id, meta, now, state.trustedBrowser ? "trusted_browser" : "password"),
        languageStatement(c.env.DB, user.id, meta.lang),
      );
    await c.env.DB.batch(batch);
    // A full login makes this browser one of the account's devices (or keeps it one); a password alone does not,
    // or an intruder stopped at the second step would come back as a known browser and hide the new-browser alert.
    if (!device && stage === "authenticated") setDeviceCookie(c, await mintDeviceToken(c.env, email, generation));
    // A half session this login replaces is in its user's guard too: forgotten there, its old token's second step is refused.
    if (previous && isSecondStepStage(previous.stage)) await guardFor(c.env, previous.user.id).forgetHalfSessions(previous.id);
    setSessionCookie(c, token, stage);
    if (newBrowser && stage === "authenticated") await alertNewBrowser(c, { id: user.id, email: user.email, name: user.name });
    const answer: z.infer<typeof LoginAnswer> = { status: STATUS[stage] };
    if (state.trustedBrowser) answer.trustedBrowser = true;
    if (state.stage === "second_factor") {
      answer.methods = state.methods;
      answer.preferred = state.preferred;
    } else if (state.stage === "recovery") {
      answer.methods = ["recovery_code"];
    }
    return c.json(answer, 200);
  },
);

/**
 * A password alone logs in only until a community's 2FA policy is due: from
 * then on it opens an `enrollment` session, which can only add a method.
 * `requiredBy` was read with the user's row; it is compared with this
 * login's `now`, taken after the hash, as before.
 */
function policyStage(requiredBy: number | null, stage: LoginState["stage"], now: number): Stage {
  if (stage !== "authenticated") return stage;
  return requiredBy !== null && requiredBy <= now ? "enrollment" : stage;
}

/** "Remember this browser for 30 days"; ignored at the recovery step, and when a community of the user forbids it. */
const remember = { rememberBrowser: z.boolean().optional() };

const VerifyBody = z
  .discriminatedUnion("method", [
    z.object({ method: z.literal("totp"), code: TOTPCode, ...remember }),
    z.object({ method: z.literal("backup_code"), code: BackupCode, ...remember }),
    z.object({ method: z.literal("recovery_code"), code: RecoveryCode, ...remember }),
    z.object({ method: z.literal("webauthn"), response: z.record(z.string(), z.unknown()), ...remember }),
  ])
  .openapi("VerifyRequest");

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/verify",
    tags: ["auth"],
    summary: "The second step: a TOTP, backup, recovery code or a WebAuthn assertion",
    middleware: [requireSecondStep],
    request: jsonBody(VerifyBody),
    responses: {
      200: json(
        z.object({
          status: z.enum(["authenticated", "enrollment_required"]),
          browserRemembered: z.boolean().optional().openapi({ description: "With rememberBrowser: whether this browser is now remembered" }),
        }),
        "Second step passed",
      ),
      ...problems(400, 401, 403, 413, 415, 429),
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const { session, result } = await secondStep(c, body);
    if (!result.ok) refused(result, "login");
    const next: Stage = session.stage === "recovery" ? "enrollment" : "authenticated";
    const now = Date.now();
    const { token, statement } = advanceSession(c.env.DB, session, next, now);
    const batch = [statement];
    if (next === "authenticated") batch.push(loggedInStatement(c.env.DB, session.user.id, c.get("meta"), now, result.methodType));
    // The second step proved who sends this request: its language is now the user's (docs/email.md "Which language").
    // The guard kept the stored one with the half session, so an unchanged language costs no statement.
    if (session.userLang !== c.get("meta").lang) batch.push(languageStatement(c.env.DB, session.user.id, c.get("meta").lang));
    const [moved] = await c.env.DB.batch(batch);
    if (!sessionMoved(moved)) throw new AppError("unauthenticated", "This login has ended; log in again");
    setSessionCookie(c, token, next);
    // A half session recorded before the guard kept the generation has none: it marks no device (it lives 10 minutes).
    if (next === "authenticated" && session.deviceGeneration !== null) await markKnownDevice(c, session.user.email, session.deviceGeneration);
    // The password step came from a new browser: the login is complete now, so now the owner hears of it.
    if (session.newBrowser && next === "authenticated") await alertNewBrowser(c, session.user);
    if (next !== "authenticated") return c.json({ status: "enrollment_required" as const }, 200);
    if (!body.rememberBrowser) return c.json({ status: "authenticated" as const }, 200);
    return c.json({ status: "authenticated" as const, browserRemembered: await rememberThisBrowser(c, { ...session, stage: next }) }, 200);
  },
);

/**
 * The attempt, checked by the user's guard against the half session it holds
 * (src/guard/half-sessions.ts): the token names the user, its MAC proves it is
 * ours, the guard knows the session's stage and epoch. No D1 read.
 */
async function secondStep(c: Context<AppEnv>, body: z.infer<typeof VerifyBody>): Promise<{ session: HalfSession; result: VerifyResult }> {
  const ended = () => new AppError("unauthenticated", "This login has ended; log in again");
  const token = c.get("halfToken");
  const owner = token ? await halfTokenOwner(c.env, token) : null;
  if (!owner) throw ended();
  const meta = c.get("meta");
  const attempt: StepAttempt =
    body.method === "webauthn"
      ? // The assertion is checked inside the guard, which claims its challenge before verifying it.
        { method: "webauthn", response: responseFields(body.response), rp: relyingParty(c.env, meta) }
      : { method: body.method, code: body.code };
  const request = { ip: meta.ip, userAgent: meta.userAgent, now: Date.now(), requestId: meta.requestId, lang: meta.lang };
  const answer = await guardFor(c.env, owner.userId).secondStep(owner.id, request, attempt);
  if (!answer.session) throw ended();
  if (!answer.result) {
    throw new AppError(
      "invalid_request",
      answer.session.stage === "recovery" ? "Only the recovery code from your admin is accepted now" : "A recovery code is not accepted at this step",
    );
  }
  return { session: answer.session, result: answer.result };
}

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/webauthn/options",
    tags: ["auth"],
    summary: "WebAuthn request options for this user's keys",
    middleware: [requireStage("second_factor")],
    responses: { 200: json(z.record(z.string(), z.unknown()), "PublicKeyCredentialRequestOptionsJSON"), ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    // First: without a configured relying party this fails closed before a challenge is stored.
    const rp = relyingParty(c.env, c.get("meta"));
    // This user's keys and a fresh challenge stored in the user's guard (single use, 5 minutes).
    const outcome = await guardFor(c.env, session.user.id).webAuthnChallenge(callerOf(c, session.user, session), "authentication");
    if (!outcome.ok && outcome.reason === "not_enrolled") throw new AppError("method_not_enrolled", "No security key is set up");
    if (!outcome.ok) refused(outcome);
    const options = await authenticationOptions(rp, outcome.challenge, outcome.keys);
    return c.json(options as unknown as Record<string, unknown>, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/logout",
    tags: ["auth"],
    summary: "End this session",
    responses: { 204: { description: "Logged out" } },
  }),
  async (c) => {
    const session = c.get("session");
    if (session) await deleteSession(c.env.DB, session.id).run();
    // A half session is in its guard too: forgotten there, its second step is refused from now on.
    if (session && isSecondStepStage(session.stage)) await guardFor(c.env, session.user.id).forgetHalfSessions(session.id);
    clearSessionCookie(c);
    return c.body(null, 204);
  },
);
