import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireRecentReauth, requireStage, sessionOf } from "../auth/session-middleware";
import type { AppEnv } from "../env";
import { registrationOptions } from "../factors/webauthn/registration";
import { responseFields } from "../factors/webauthn/response-fields";
import { guardFor } from "../guard/user-guard";
import { callerOf } from "../http/caller";
import { relyingParty } from "../http/public-origin";
import { refused } from "../http/refusals";
import { json, jsonBody, Method, Name, problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { finishEnrollment } from "./enrollment";

/** Security-key registration (`/api/security/webauthn/*`): sudo, and open to enrollment sessions. */
export const keyRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const enrolling = requireStage("authenticated", "enrollment");

/** A browser's RegistrationResponseJSON; its fields are checked by the ceremony, which answers only "not accepted". */
const CeremonyResponse = z.record(z.string(), z.unknown()).openapi("RegistrationResponseJSON");

keyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/options",
    tags: ["security"],
    summary: "Creation options for a new security key or passkey (sudo, enrollment)",
    middleware: [enrolling, requireRecentReauth],
    responses: { 200: json(z.record(z.string(), z.unknown()), "PublicKeyCredentialCreationOptionsJSON; valid 5 minutes"), ...problems(401, 403) },
  }),
  async (c) => {
    const session = sessionOf(c);
    // First: without a configured relying party this fails closed before a challenge is stored.
    const rp = relyingParty(c.env, c.get("meta"));
    const outcome = await guardFor(c.env, session.user.id).webAuthnChallenge(callerOf(c, session.user, session), "registration");
    if (!outcome.ok) refused(outcome);
    const options = await registrationOptions(rp, session.user, outcome.challenge, outcome.keys);
    return c.json(options as unknown as Record<string, unknown>, 200);
  },
);

keyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["security"],
    summary: "Register the key that answered the options (sudo, enrollment)",
    middleware: [enrolling, requireRecentReauth],
    request: jsonBody(z.object({ name: Name.optional(), response: CeremonyResponse })),
    responses: {
      201: json(z.object({ method: Method, backupCodes: z.array(z.string()).optional() }), "Registered; backupCodes when this turned 2FA on"),
      ...problems(400, 401, 403, 409),
    },
  }),
  async (c) => {
    const session = sessionOf(c);
    const body = c.req.valid("json");
    const outcome = await guardFor(c.env, session.user.id).registerWebAuthn(
      callerOf(c, session.user, session),
      body.name ?? "Security key",
      responseFields(body.response),
      relyingParty(c.env, c.get("meta")),
    );
    if (!outcome.ok) refused(outcome);
    return finishEnrollment(c, session, outcome, 201);
  },
);
