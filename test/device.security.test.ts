import { SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrowserClient, Client, ORIGIN } from "./support/client";
import { newUser, PASSWORD } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";

/**
 * Device cookies: a browser that has logged in to an account before is slowed
 * by its own bucket, so failed logins from elsewhere for the same email cannot
 * keep the account's own devices out (the per-email bucket still slows
 * everyone else down).
 */
async function login(email: string, password: string, opts: { ip: string; device?: string | null }) {
  const headers: Record<string, string> = { "Content-Type": "application/json", "CF-Connecting-IP": opts.ip };
  if (opts.device) headers.Cookie = `__Host-device=${opts.device}`;
  const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, { method: "POST", headers, body: JSON.stringify({ email, password }) });
  const device = res.headers
    .getSetCookie()
    .find((c) => c.startsWith("__Host-device="))
    ?.split(";")[0]
    ?.slice("__Host-device=".length);
  return { status: res.status, device: device ?? null, res };
}

let ipCounter = 0;
function freshIP(): string {
  ipCounter += 1;
  return `198.51.100.${ipCounter}`;
}

async function drainEmailBucket(email: string): Promise<void> {
  for (let i = 0; i < 10; i++) expect((await login(email, `${PASSWORD} wrong`, { ip: freshIP() })).status).toBe(401);
  expect((await login(email, PASSWORD, { ip: freshIP() })).status).toBe(429);
}

describe("device cookies", () => {
  it("a successful login sets __Host-device: HttpOnly, Secure, SameSite=Lax, Path=/, no Domain; a failed one sets none", async () => {
    const u = await newUser();
    const wrong = await login(u.email, `${PASSWORD}!`, { ip: freshIP() });
    expect(wrong.res.headers.getSetCookie()).toEqual([]);
    const ok = await login(u.email, PASSWORD, { ip: freshIP() });
    const cookie = ok.res.headers.getSetCookie().find((c) => c.startsWith("__Host-device=")) as string;
    const attributes = cookie
      .split(";")
      .slice(1)
      .map((a) => a.trim())
      .filter((a) => !a.startsWith("Max-Age="));
    expect(attributes.sort()).toEqual(["HttpOnly", "Path=/", "SameSite=Lax", "Secure"]);
  });

  it("when failures from elsewhere have emptied the email's bucket, the account's own browser still gets in", async () => {
    const u = await newUser();
    const { device } = await login(u.email, PASSWORD, { ip: freshIP() });
    expect(device).toBeTruthy();
    await drainEmailBucket(u.email);
    expect((await login(u.email, PASSWORD, { ip: freshIP(), device })).status).toBe(200);
    // Without the cookie the email's bucket still answers.
    expect((await login(u.email, PASSWORD, { ip: freshIP() })).status).toBe(429);
  });

  it("a device cookie of another account, or a tampered one, buys nothing", async () => {
    const victim = await newUser();
    const other = await newUser();
    const { device: otherDevice } = await login(other.email, PASSWORD, { ip: freshIP() });
    const { device: victimDevice } = await login(victim.email, PASSWORD, { ip: freshIP() });
    await drainEmailBucket(victim.email);
    expect((await login(victim.email, PASSWORD, { ip: freshIP(), device: otherDevice })).status).toBe(429);
    const [id, random, mac] = (victimDevice as string).split(".");
    const flipped = `${id}.${random}.${(mac as string).startsWith("A") ? "B" : "A"}${(mac as string).slice(1)}`;
    expect((await login(victim.email, PASSWORD, { ip: freshIP(), device: flipped })).status).toBe(429);
    expect((await login(victim.email, PASSWORD, { ip: freshIP(), device: `${id}.${random}x.${mac}` })).status).toBe(429);
    expect((await login(victim.email, PASSWORD, { ip: freshIP(), device: "garbage" })).status).toBe(429);
  });

  it("a device is slowed by its own bucket: ten wrong passwords, then 429 for it alone", async () => {
    const u = await newUser();
    const { device } = await login(u.email, PASSWORD, { ip: freshIP() });
    for (let i = 0; i < 10; i++) expect((await login(u.email, `${PASSWORD} wrong`, { ip: freshIP(), device })).status).toBe(401);
    const blocked = await login(u.email, PASSWORD, { ip: freshIP(), device });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.res.headers.get("Retry-After"))).toBeGreaterThan(0);
    // The device's failures did not spend the email's bucket.
    expect((await login(u.email, PASSWORD, { ip: freshIP() })).status).toBe(200);
  });
});

describe("a password change or reset takes every other browser's own bucket away (docs/security.md R10d)", () => {
  const NEW_PASSWORD = "a brand new password of mine";
  const mail = new Mailbox();
  beforeAll(() => mail.open());
  afterAll(() => mail.close());

  /** Ten wrong passwords from a browser holding `device`, then: does the email's shared bucket still let the owner in? */
  async function failuresFrom(email: string, device: string | null): Promise<number> {
    for (let i = 0; i < 10; i++) expect((await login(email, `${NEW_PASSWORD} wrong`, { ip: freshIP(), device })).status).toBe(401);
    return (await login(email, NEW_PASSWORD, { ip: freshIP() })).status;
  }

  it("after a reset by email, an old device cookie's wrong passwords spend the email's shared bucket", async () => {
    const u = await newUser();
    const { device } = await login(u.email, PASSWORD, { ip: freshIP() });
    expect(device).toBeTruthy();
    const previous = mail.lastToken(u.email, "reset-password");
    expect((await new Client().post("/api/auth/password-reset", { email: u.email })).status).toBe(202);
    const token = await mail.nextToken(u.email, "reset-password", previous);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);

    expect(await failuresFrom(u.email, device)).toBe(429);
  });

  it("after a change from another browser, an old device cookie's wrong passwords spend the email's shared bucket", async () => {
    const u = await newUser();
    const { device } = await login(u.email, PASSWORD, { ip: freshIP() });
    expect(device).toBeTruthy();
    expect((await u.client.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);

    expect(await failuresFrom(u.email, device)).toBe(429);
  });

  it("the browser that changed the password keeps a bucket of its own, for the new password", async () => {
    const u = await newUser();
    const home = new BrowserClient(freshIP());
    expect((await home.post("/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(200);
    const old = home.device;
    expect(old).toBeTruthy();
    expect((await home.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);
    expect(home.device).toBeTruthy();
    expect(home.device).not.toBe(old);

    // Someone else empties the email's bucket; the owner's browser still gets in with the new password.
    expect(await failuresFrom(u.email, null)).toBe(429);
    expect((await login(u.email, NEW_PASSWORD, { ip: freshIP(), device: home.device })).status).toBe(200);
  });
});
