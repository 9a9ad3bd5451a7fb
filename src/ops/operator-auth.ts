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
 * Bearer-token attempts at the operator routes, per client address. A right
 * token gives its token back, so only wrong ones count.
 */
export const OPS_CLIENT_POLICY: BucketPolicy = { capacity: 5, refillMs: 60_000 };

/**
 * All callers together, only while OPS_TOKEN is weak (src/ops/operator-token.ts): a guessable token needs a
 * guess budget that many addresses cannot multiply. It is also what anyone can empty with wrong tokens to keep
 * the operator out, so a strong token goes without it (docs/security.md R11c).
 */
export const OPS_ALL_POLICY: BucketPolicy = { capacity: 10, refillMs: 60_000 };

/** Logged at each operator request while OPS_TOKEN is weak: the rule and the price, never the token or its length. */
export const WEAK_OPS_TOKEN_LOG = `configuration: OPS_TOKEN is short or simple (under ${OPS_TOKEN_MIN_LENGTH} characters, whitespace inside, or fewer than ${OPS_TOKEN_MIN_DISTINCT} different ones): operator recovery works, but its guesses are counted for all callers together, so anyone's wrong tokens can keep it shut. Put a longer one (docs/deploy.md "Operator recovery").`;

/** Logged at each operator request while OPS_TOKEN is whitespace alone: the route is off, as unset. */
export const BLANK_OPS_TOKEN_LOG = `configuration: OPS_TOKEN is set to whitespace alone, which is no token: operator recovery is off. Put a token of ${OPS_TOKEN_MIN_LENGTH} characters or more, or unset it (docs/deploy.md "Operator recovery").`;

/**
 * Admits the service's operator: 404 while the secret `OPS_TOKEN` is unset
 * or blank (the route does not exist), 429 when too many attempts were made (from
 * this address; with a weak token, also from everywhere together), 401 for a
 * missing or wrong bearer token. Both sides are hashed first, so the
 * constant-time comparison is of equal lengths and says nothing of the
 * secret's length.
 */
export const requireOperator: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = operatorToken(c.env.OPS_TOKEN);
  if (token.state === "unset") {
    if (token.blank) console.warn(`${BLANK_OPS_TOKEN_LOG} (request ${c.get("meta").requestId})`);
    throw new AppError("not_found", "No such endpoint");
  }
  if (token.state === "weak") console.warn(`${WEAK_OPS_TOKEN_LOG} (request ${c.get("meta").requestId})`);
  const release = await takeTokens(
    c.env,
    [
      { key: `ops-client:${clientAddress(c.get("meta").ip)}`, policy: OPS_CLIENT_POLICY },
      ...(token.state === "weak" ? [{ key: "ops-all", policy: OPS_ALL_POLICY }] : []),
    ],
    Date.now(),
    "Too many operator attempts; wait before trying again",
  );
  const header = c.req.header("Authorization") ?? "";
  const given = /^Bearer (\S+)$/.exec(header)?.[1] ?? "";
  // No token is never the token, whatever the secret trims to (docs/security.md R11r).
  if (given === "" || !timingSafeEqual(utf8(sha256Hex(given)), utf8(sha256Hex(token.secret))))
    throw new AppError("unauthenticated", "A valid operator token is required");
  await release();
  await next();
};
