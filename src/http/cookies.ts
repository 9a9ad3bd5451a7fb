import type { Context } from "hono";

/** The value of one cookie in a Cookie header, or null when absent or empty. */
export function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** Sets a `__Host-` cookie: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain. */
export function setHostCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  c.header("Set-Cookie", `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; Secure; SameSite=Lax`, { append: true });
}
