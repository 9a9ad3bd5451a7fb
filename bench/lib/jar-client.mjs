// A client for Better Auth: a general cookie jar and its Origin check satisfied.
export class JarClient {
  constructor(base) {
    this.base = base;
    this.jar = new Map();
  }

  async post(path, body) {
    const headers = { "Content-Type": "application/json", Origin: this.base };
    if (this.jar.size) headers.Cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const res = await fetch(this.base + path, { method: "POST", headers, body: JSON.stringify(body ?? {}), signal: AbortSignal.timeout(30_000) });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === "";
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: json };
  }
}

export function secretFromURI(uri) {
  return new URL(uri).searchParams.get("secret");
}
