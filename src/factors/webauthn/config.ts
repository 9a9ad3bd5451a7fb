import type { Env, RequestMeta } from "../../env";

/** The relying party a ceremony is checked against (WebAuthn §5.1.3 RP ID, §13.4.9 origins). */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/**
 * From wrangler vars when set (a real domain: RP_ID = "example.com", ORIGINS =
 * "https://example.com,https://login.example.com"), else the request's own host
 * and origin, which is what local development needs: RP ID `localhost` and
 * `http://localhost:PORT` (localhost is a secure context; an IP address is not
 * a valid RP ID). See docs/webauthn.md.
 */
export function relyingParty(env: Pick<Env, "RP_ID" | "RP_NAME" | "ORIGINS">, meta: Pick<RequestMeta, "host" | "origin">): RelyingParty {
  const origins = (env.ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  return {
    id: env.RP_ID?.trim() || meta.host,
    name: env.RP_NAME?.trim() || "Edge 2FA",
    origins: origins.length > 0 ? origins : [meta.origin],
  };
}
