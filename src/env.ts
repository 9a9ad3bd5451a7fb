import type { Session } from "./auth/session";
import type { Throttle } from "./auth/throttle";
import type { UserGuard } from "./guard/user-guard";

/** Bindings and variables from wrangler.toml (and secrets). */
export interface Env {
  DB: D1Database;
  USER_GUARD: DurableObjectNamespace<UserGuard>;
  THROTTLE: DurableObjectNamespace<Throttle>;
  EMAIL: SendEmail;
  ASSETS: Fetcher;
  /** PBKDF2-SHA256 iterations for backup and recovery code hashes (at most 100,000). */
  CODE_HASH_ITERATIONS: string;
  /** Total PBKDF2-SHA256 iterations for new password hashes. */
  PASSWORD_ITERATIONS: string;
  ISSUER: string;
  RP_ID: string;
  RP_NAME: string;
  /** Comma-separated allowed WebAuthn origins; empty means the request's own origin. */
  ORIGINS: string;
  MAIL_FROM: string;
  /** Comma-separated `keyId:base64key`; the first encrypts, all decrypt. */
  ENCRYPTION_KEYS: string;
}

/** Who and where a request came from, recorded with every security event. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  origin: string;
  host: string;
}

export type AppEnv = {
  Bindings: Env;
  Variables: {
    session: Session | null;
    meta: RequestMeta;
  };
};
