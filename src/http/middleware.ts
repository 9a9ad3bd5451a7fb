import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env";
import { langOfAcceptLanguage } from "../notify/language";
import { AppError } from "./errors";

export const MAX_BODY_BYTES = 16 * 1024;

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Every request gets an id, answered in `X-Request-Id`, named in every log
 * line the request causes and in a 500's problem body, so a user's report
 * finds its line. The id is always ours (limitLength 0: one a client sends is
 * never taken), since a chosen id would let anyone write what our lines say.
 */
export const requestIds: MiddlewareHandler<AppEnv> = requestId({ limitLength: 0 });

/** Who is calling, taken once so every event records the same facts. */
export const requestMeta: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  c.set("meta", {
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, 512) ?? null,
    origin: url.origin,
    host: url.hostname,
    requestId: c.get("requestId"),
    lang: langOfAcceptLanguage(c.req.header("Accept-Language")),
  });
  c.set("session", null);
  await next();
};

/** 413 comes first in the contract's order, so it runs before anything reads the body. */
export const limitBody: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `Bodies are limited to ${MAX_BODY_BYTES} bytes`);
  },
});

/**
 * State-changing requests from another origin are refused. Browsers always send
 * Origin on cross-site POST/PUT/PATCH/DELETE; non-browser clients may omit it.
 * Written by hand rather than with hono/csrf: that middleware checks only
 * form-encoded bodies (a JSON body passes it whatever its Origin), and the
 * contract wants 403 `csrf` as problem+json in a fixed place of its order.
 */
export const refuseCrossSite: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (UNSAFE.has(c.req.method)) {
    const origin = c.req.header("Origin");
    if (origin !== undefined && origin !== c.get("meta").origin) {
      throw new AppError("csrf", "Requests from other sites are not accepted");
    }
  }
  await next();
};

/**
 * JSON bodies only: a body in another media type is refused before any session
 * work. Only a body can be in the wrong type: a body-less POST passes whatever
 * its Content-Type says, so logout "always answers 204" even when sent as a
 * beacon (`text/plain`); a body-taking endpoint then refuses the empty body as
 * invalid JSON (400). The Content-Type of a body-less request is dropped: the
 * router's optional-body check would otherwise parse nothing as JSON (400) or
 * refuse a beacon's type (415), and an endpoint whose body is optional must
 * take a request without one, whatever header a client's wrapper adds
 * (docs/api.md "Conventions").
 */
export const requireJSONBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === "POST" || c.req.method === "PUT" || c.req.method === "PATCH") {
    const type = c.req.header("Content-Type");
    const length = c.req.header("Content-Length");
    const hasBody = c.req.raw.body !== null && length !== "0";
    if (hasBody && (type === undefined || !isJSON(type))) {
      throw new AppError("unsupported_media_type", "Send the body as application/json");
    }
    if (!hasBody && type !== undefined) {
      const headers = new Headers(c.req.raw.headers);
      headers.delete("Content-Type");
      c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers });
    }
  }
  await next();
};

function isJSON(contentType: string): boolean {
  const essence = contentType.split(";")[0]?.trim().toLowerCase();
  return essence === "application/json";
}

/**
 * The API's response headers: hono/secure-headers with the values the
 * service has always sent (no content at all may load or frame, no referrer,
 * two years of HSTS with subdomains: pages set theirs in public/_headers) and
 * its other defaults (COOP, Origin-Agent-Cluster, X-DNS-Prefetch-Control and
 * the like, harmless on JSON), then `Cache-Control: no-store`: an answer may
 * hold a session's data and must not be kept by any cache.
 */
export const apiSecurityHeaders: MiddlewareHandler<AppEnv>[] = [
  secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    strictTransportSecurity: "max-age=63072000; includeSubDomains",
  }),
  async (c, next) => {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  },
];
