import type { MiddlewareHandler } from "hono";
import { clientAddress } from "../auth/client-address";
import { takeTokens } from "../auth/throttle";
import type { AppEnv } from "../env";
import { AppError } from "../http/errors";
import { timingSafeEqual } from "../lib/constant-time";
import { utf8 } from "../lib/encoding";
import { sha256Hex } from "../lib/sha256";
import type { BucketPolicy } from "../lib/token-bucket";

/**
 * Bearer-token attempts at the operator routes: per client address, and all
 * together (an attacker with many addresses still gets few guesses a minute).
 * A right token gives its tokens back, so only wrong ones count.
 */
export const OPS_CLIENT_POLICY: BucketPolicy = { capacity: 5, refillMs: 60_000 };
export const OPS_ALL_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };

/**
 * Admits the service's operator: 404 while the secret `OPS_TOKEN` is unset
 * (the route does not exist), 429 when too many attempts were made, 401 for a
 * missing or wrong bearer token. Both sides are hashed first, so the
 * constant-time comparison is of equal lengths and says nothing of the
 * secret's length.
 */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const secret = c.env.OPS_TOKEN;
  if (!secret) throw new AppError("not_found", "No such endpoint");
  const release = await takeTokens(
    c.env,
    [
      { key: `ops-client:${clientAddress(c.get("meta").ip)}`, policy: OPS_CLIENT_POLICY },
      { key: "ops-all", policy: OPS_ALL_POLICY },
    ],
    Date.now(),
    "Too many operator attempts; wait before trying again",
  );
  const header = c.req.header("Authorization") ?? "";
  const given = /^Bearer (\S+)$/.exec(header)?.[1] ?? "";
  if (!timingSafeEqual(utf8(sha256Hex(given)), utf8(sha256Hex(secret)))) throw new AppError("unauthenticated", "A valid operator token is required");
  await release();
  await next();
};
