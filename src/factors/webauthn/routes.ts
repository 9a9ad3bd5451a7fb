import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../env";
import { validationHook } from "../../http/validation";

/** Security-key registration (`/api/security/webauthn/*`); filled in by the security-key issue. */
export const webAuthnRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
