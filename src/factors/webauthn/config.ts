import type { Env, RequestMeta } from "../../env";
import { configuredOrigins, isLocalHost, notConfigured } from "../../http/public-origin";

/** The relying party a ceremony is checked against (WebAuthn §5.1.3 RP ID, §13.4.9 origins). */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/**
 * From wrangler vars (a real domain: RP_ID = "example.com", ORIGINS =
 * "https://example.com,https://login.example.com"). Empty values fall back to
 * the request's own host and origin only for localhost, which is what local
 * development needs (RP ID `localhost`, `http://localhost:PORT`; an IP address
 * is not a valid RP ID); elsewhere they fail closed (src/http/public-origin.ts,
 * docs/webauthn.md).
 */
export function relyingParty(env: Pick<Env, "RP_ID" | "RP_NAME" | "ORIGINS">, meta: Pick<RequestMeta, "host" | "origin">): RelyingParty {
  const local = isLocalHost(meta.host);
  const id = env.RP_ID?.trim() || (local ? meta.host : null);
  if (id === null) throw notConfigured("RP_ID");
  const origins = configuredOrigins(env);
  if (origins.length === 0 && !local) throw notConfigured("ORIGINS");
  return { id, name: env.RP_NAME?.trim() || "Edge 2FA", origins: origins.length > 0 ? origins : [meta.origin] };
}
