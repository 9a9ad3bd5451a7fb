import type { Env, RequestMeta } from "../env";
import type { RelyingParty } from "../factors/webauthn/relying-party";
import { AppError } from "./errors";

/**
 * Where the service says it lives: WebAuthn's relying party and allowed
 * origins (src/factors/webauthn/relying-party.ts) and the links in emails. They come
 * from configuration (RP_ID, ORIGINS). The request's own host is trusted only
 * for `localhost` and `127.0.0.1`, which is what local development needs;
 * anywhere else a Host header is whatever the client wrote, and a link or an
 * origin taken from it would let anyone aim the service's emails and
 * ceremonies at their own site. With the configuration missing the service
 * fails closed: 500 and one log line (docs/deploy.md).
 */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1"]);

export function isLocalHost(host: string): boolean {
  return LOCAL_HOSTS.has(host.toLowerCase());
}

/** ORIGINS, comma-separated, trimmed, empty entries dropped. */
export function configuredOrigins(env: Pick<Env, "ORIGINS">): string[] {
  return (env.ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

/** The origin links in emails point to: the first entry of ORIGINS, or the request's own on localhost. */
export function publicOrigin(env: Pick<Env, "ORIGINS">, meta: Pick<RequestMeta, "host" | "origin">): string {
  const first = configuredOrigins(env)[0];
  if (first) return first.replace(/\/+$/, "");
  if (isLocalHost(meta.host)) return meta.origin;
  throw notConfigured("ORIGINS");
}

/**
 * From wrangler vars (a real domain: RP_ID = "example.com", ORIGINS =
 * "https://example.com,https://login.example.com"). Empty values fall back to
 * the request's own host and origin only for localhost, which is what local
 * development needs (RP ID `localhost`, `http://localhost:PORT`; an IP address
 * is not a valid RP ID); elsewhere they fail closed (docs/webauthn.md).
 */
export function relyingParty(env: Pick<Env, "RP_ID" | "RP_NAME" | "ORIGINS">, meta: Pick<RequestMeta, "host" | "origin">): RelyingParty {
  const local = isLocalHost(meta.host);
  const id = env.RP_ID?.trim() || (local ? meta.host : null);
  if (id === null) throw notConfigured("RP_ID");
  const origins = configuredOrigins(env);
  if (origins.length === 0 && !local) throw notConfigured("ORIGINS");
  return { id, name: env.RP_NAME?.trim() || "Edge 2FA", origins: origins.length > 0 ? origins : [meta.origin] };
}

/**
 * The refusal when a value the deployment must set is empty. Its log line
 * names the setting only, never anything from the request (its host is what
 * an attacker would write).
 */
export function notConfigured(setting: "RP_ID" | "ORIGINS"): AppError {
  return new AppError("internal", "The service is not configured for this address", {
    log: `configuration: ${setting} is empty and the request is not for localhost; refusing to take it from the request. Set RP_ID and ORIGINS (docs/deploy.md).`,
  });
}
