import type { MiddlewareHandler } from "hono";
import { clientAddress } from "../auth/client-address";
import { takeTokens } from "../auth/throttle";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { timingSafeEqual } from "../lib/constant-time";
import { utf8 } from "../lib/encoding";
import { sha256Hex } from "../lib/sha256";
import type { BucketPolicy } from "../lib/token-bucket";
import { OPS_TOKEN_MIN_DISTINCT, OPS_TOKEN_MIN_LENGTH, operatorToken } from "./operator-token";

/**
 * Bearer-token attempts at the operator routes, per client address. There is
 * no bucket for all callers together: anyone could empty it with wrong tokens
 * from a few addresses and keep the operator out for as long as they liked
 * (docs/security.md R11c). Guessing is made pointless by the token's strength
 * instead (src/ops/operator-token.ts). A right token gives its token back, so
 * only wrong ones count.
 */
export const OPS_CLIENT_POLICY: BucketPolicy = { capacity: 5, refillMs: 60_000 };

/** The line logged for each request while a weak OPS_TOKEN keeps the routes off: the rule, never the token or its length. */
export const WEAK_OPS_TOKEN_LOG = `configuration: OPS_TOKEN is too short or too simple (at least ${OPS_TOKEN_MIN_LENGTH} characters, no whitespace, ${OPS_TOKEN_MIN_DISTINCT} or more different ones), so the operator routes are off. Put a new one (docs/deploy.md "Operator recovery").`;

/**
 * Admits the service's operator: 404 while the secret `OPS_TOKEN` is unset or
 * weak (the route does not exist; a weak one is logged), 429 when this
 * address made too many attempts, 401 for a missing or wrong bearer token.
 * Both sides are hashed first, so the constant-time comparison is of equal
 * lengths and says nothing of the secret's length.
 */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = operatorToken(c.env.OPS_TOKEN);
  if (token.state === "unset") throw new AppError("not_found", "No such endpoint");
  if (token.state === "weak") throw new AppError("not_found", "No such endpoint", { log: WEAK_OPS_TOKEN_LOG });
  const release = await takeTokens(
    c.env,
    [{ key: `ops-client:${clientAddress(c.get("meta").ip)}`, policy: OPS_CLIENT_POLICY }],
    Date.now(),
    "Too many operator attempts; wait before trying again",
  );
  const header = c.req.header("Authorization") ?? "";
  const given = /^Bearer (\S+)$/.exec(header)?.[1] ?? "";
  if (!timingSafeEqual(utf8(sha256Hex(given)), utf8(sha256Hex(token.secret)))) throw new AppError("unauthenticated", "A valid operator token is required");
  await release();
  await next();
};
