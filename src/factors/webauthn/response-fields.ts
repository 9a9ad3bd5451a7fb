/**
 * A browser's answer to a ceremony (RegistrationResponseJSON or AuthenticationResponseJSON, WebAuthn §5.1)
 * cut down to the fields a ceremony reads, each kept only with the type a browser sends it as: strings, and
 * transports as a list of strings. The routes take the answer as any JSON object, so its refusals stay the
 * ceremony's (`invalid_code`), and this is what then goes to the user's guard: the call copies its argument,
 * and a value nested a few thousand levels deep under any key, which a 16 KiB body holds, made that copy
 * throw, a `500` and an operator's log line instead of a refusal (docs/security.md R13f). Nothing here
 * recurses: the depth of what comes back is fixed.
 */
export interface ResponseFields {
  id?: string;
  rawId?: string;
  type?: string;
  response?: {
    clientDataJSON?: string;
    authenticatorData?: string;
    signature?: string;
    userHandle?: string;
    attestationObject?: string;
    transports?: string[];
  };
}

const OUTER = ["id", "rawId", "type"] as const;
const INNER = ["clientDataJSON", "authenticatorData", "signature", "userHandle", "attestationObject"] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function responseFields(answer: Record<string, unknown>): ResponseFields {
  const out: ResponseFields = {};
  for (const key of OUTER) {
    const value = answer[key];
    if (typeof value === "string") out[key] = value;
  }
  const inner = answer.response;
  if (!isObject(inner)) return out;
  const response: NonNullable<ResponseFields["response"]> = {};
  for (const key of INNER) {
    const value = inner[key];
    if (typeof value === "string") response[key] = value;
  }
  // Kept as sent (strings only); registration decides how many it stores (src/factors/webauthn/registration.ts).
  if (Array.isArray(inner.transports)) response.transports = inner.transports.filter((t): t is string => typeof t === "string");
  out.response = response;
  return out;
}
