import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env";
import { AppError } from "./errors";

export const MAX_BODY_BYTES = 16 * 1024;

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Who is calling, taken once so every event records the same facts. */
export const requestMeta: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  c.set("meta", {
    ip: c.req.header("CF-Connecting-IP") ?? null,
    userAgent: c.req.header("User-Agent")?.slice(0, 512) ?? null,
    origin: url.origin,
    host: url.hostname,
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
 * invalid JSON (400).
 */
export const requireJSONBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.method === "POST" || c.req.method === "PUT" || c.req.method === "PATCH") {
    const type = c.req.header("Content-Type");
    const length = c.req.header("Content-Length");
    const hasBody = c.req.raw.body !== null && length !== "0";
    if (hasBody && (type === undefined || !isJSON(type))) {
      throw new AppError("unsupported_media_type", "Send the body as application/json");
    }
  }
  await next();
};

function isJSON(contentType: string): boolean {
  const essence = contentType.split(";")[0]?.trim().toLowerCase();
  return essence === "application/json";
}

export const apiSecurityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  const h = c.res.headers;
  h.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  h.set("Referrer-Policy", "no-referrer");
  h.set("Cross-Origin-Resource-Policy", "same-origin");
  h.set("Cache-Control", "no-store");
  // Two years, subdomains too: after one visit a browser never speaks plain HTTP to the service (pages: public/_headers).
  h.set("Strict-Transport-Security", "max-age=63072000; includeSubDomains");
};
