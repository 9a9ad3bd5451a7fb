/**
 * What makes an OPS_TOKEN strong (docs/deploy.md "Operator recovery"). A
 * strong token's guesses are throttled per client address only, never for
 * all callers together, so that a stranger's wrong tokens cannot keep the
 * operator out; what keeps guessing pointless instead is a token nobody can
 * guess: `openssl rand -base64 32` gives 44 characters. A weak token still
 * works, with the old budget for all callers together.
 */
export const OPS_TOKEN_MIN_LENGTH = 32;

/**
 * Fewer distinct characters than this is a key held down or a short pattern
 * repeated ("aaaa…", "abc1abc1…"): long, yet guessable. A random
 * token of 32 characters or more has far more (64 hex digits have 16, or
 * close to it); the check catches only the obviously made-up ones.
 */
export const OPS_TOKEN_MIN_DISTINCT = 8;

/** What the Worker's OPS_TOKEN secret makes of the operator routes; `blank`: set, to whitespace alone. */
export type OperatorToken = { state: "unset"; blank?: true } | { state: "weak" | "strong"; secret: string };

/**
 * Unset or empty: off, as chosen. Set: on, whatever its strength (the
 * contract: with the secret set, the route answers). Weak, after trimming
 * surrounding whitespace (shorter than 32 characters, whitespace inside,
 * which a bearer token cannot carry, or fewer than 8 distinct characters):
 * the caller keeps a guess budget for all callers together and logs why. The
 * trimmed value is the one compared, so a newline a shell pipe added to the
 * secret does not keep the right token out. Whitespace alone trims to
 * nothing, which is no token: off, as unset. Compared, it would match the
 * empty bearer token of a request that sends none (docs/security.md R11r).
 */
export function operatorToken(raw: string | undefined): OperatorToken {
  if (!raw) return { state: "unset" };
  const secret = raw.trim();
  if (secret === "") return { state: "unset", blank: true };
  const weak = secret.length < OPS_TOKEN_MIN_LENGTH || /\s/.test(secret) || new Set(secret).size < OPS_TOKEN_MIN_DISTINCT;
  return { state: weak ? "weak" : "strong", secret };
}
