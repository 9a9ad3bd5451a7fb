import { normalizeCode } from "../lib/codes";
import { z } from "./zod";

/** Lengths count Unicode code points after NFC (docs/api.md "Conventions"). */
export function codePoints(s: string): number {
  return [...s.normalize("NFC")].length;
}

export const Email = z
  .string()
  .max(320)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.email({ message: "must be an email address" }).max(254))
  .openapi({ example: "ada@example.com" });

/**
 * Half of a UTF-16 pair (Unicode Cs, a lone surrogate, `\uD800` in JSON) is no character: the hash's UTF-8
 * (src/auth/passwords.ts) turns each of the 2,048 into the same U+FFFD, so a password of them would be stored
 * as a weaker one that other surrogates open. Refused where a password is chosen; a login compares whatever it gets.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** NIST SP 800-63B-4 §3.1.1.2: at least 15 characters for a password that may stand alone; at most 128 here. */
export const NewPassword = z
  .string()
  .refine((s) => !LONE_SURROGATE.test(s), { message: "must not contain lone surrogates" })
  .refine((s) => codePoints(s) >= 15, { message: "must be at least 15 characters" })
  .refine((s) => codePoints(s) <= 128, { message: "must be at most 128 characters" })
  // The refinements are invisible to the generator; JSON Schema's min/maxLength also count code points.
  .openapi({
    minLength: 15,
    maxLength: 128,
    description: "15 to 128 Unicode code points after NFC; no lone surrogates",
    example: "correct horse battery staple",
  });

/** Any password up to a bound: a login never reveals the policy, and never hashes megabytes. */
export const Password = z.string().min(1, { message: "is required" }).max(1024).openapi({ example: "correct horse battery staple" });

/**
 * What a name may not contain (docs/api.md "Names and text from users"):
 * control characters (Unicode Cc: NUL, tab, CR, LF, DEL, C1), the line and
 * paragraph separators U+2028 and U+2029, and the bidirectional embeddings,
 * overrides and isolates U+202A–U+202E and U+2066–U+2069. Names reach other
 * people's pages and inboxes: none of these may start a line or a header, or
 * make a name read as something else. Marks such as U+200F stay allowed.
 * Nor may half of a UTF-16 pair (Unicode Cs, a lone surrogate, which JSON
 * can spell as `\uD800`): it is no character, and D1 gives it back as three
 * U+FFFD, so the name stored would not be the one answered, nor 100 long.
 */
const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
export const NAME_MAX = 100;

/**
 * User, community and method names: 1 to 100 code points after NFC and
 * trimming. Forbidden characters are looked for in the text as sent, before
 * trimming: a trailing newline is refused, not silently cut.
 */
export const Name = z
  .string()
  .max(4 * NAME_MAX)
  .refine((s) => !FORBIDDEN_IN_NAMES.test(s), { message: "must not contain control characters, line breaks, bidirectional overrides or lone surrogates" })
  .transform((s) => s.normalize("NFC").trim())
  .refine((s) => codePoints(s) >= 1, { message: "must not be empty" })
  .refine((s) => codePoints(s) <= NAME_MAX, { message: `must be at most ${NAME_MAX} characters` })
  .openapi({
    type: "string",
    minLength: 1,
    maxLength: NAME_MAX,
    description: "1 to 100 Unicode code points after NFC and trimming; no control characters, line breaks, bidirectional overrides or lone surrogates",
  });

export const TOTPCode = z
  .string()
  .max(64)
  .refine((s) => /^[0-9]{6}$/.test(s.trim()), { message: "must be the 6-digit code from the authenticator app" })
  .openapi({ example: "123456" });

export const BackupCode = z
  .string()
  .max(64)
  .refine((s) => normalizeCode(s, 10) !== null, { message: "must be a backup code like xxxxx-xxxxx" })
  .openapi({ example: "7k3q9-mx2pd" });

export const RecoveryCode = z
  .string()
  .max(64)
  .refine((s) => normalizeCode(s, 16) !== null, { message: "must be a recovery code like xxxx-xxxx-xxxx-xxxx" })
  .openapi({ example: "4f7k-q9mx-2pdt-8hw3" });

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    /** On a 500: the request's id (also in X-Request-Id), to match a report with the log. */
    requestId: z.string().optional(),
    attemptsLeft: z.number().int().min(0).optional().openapi({
      description:
        "On the second step's 401 invalid_code, only when few attempts are left: how many more refusals the account's second step takes before it locks (0: this one locked it, with Retry-After)",
    }),
    lockSeconds: z.number().int().positive().optional().openapi({
      description: "With attemptsLeft: how long, in seconds, the lock lasts that those refusals lead to (or that this one set)",
    }),
  })
  .openapi("Problem");

export const MethodType = z.enum(["totp", "webauthn"]);

export const Method = z
  .object({
    id: z.string(),
    type: MethodType,
    name: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("Method");

export const Role = z.enum(["admin", "member"]);

/** A community named in the path. */
export const Cid = z.object({ cid: z.string().max(64) });

export const User = z.object({ id: z.string(), email: z.string(), name: z.string() }).openapi("User");

/** JSON body helper for createRoute. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { content: { "application/json": { schema } }, required: true } } as const;
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description } as const;
}

export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { content: { "application/problem+json": { schema: Problem } }, description: "Problem" }]));
