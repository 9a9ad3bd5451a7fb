import { describe, expect, it } from "vitest";
import { Client } from "./support/client";
import { newUser, PASSWORD } from "./support/fixtures";

describe("reauth", () => {
  it("issues a new session token and the old one stops working (ASVS 7.2.4)", async () => {
    const u = await newUser();
    const before = u.client.cookie;
    const res = await u.client.post("/api/security/reauth", { password: PASSWORD });
    expect(res.status).toBe(204);
    expect(res.headers.get("Set-Cookie")).toMatch(/^__Host-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(u.client.cookie).not.toBe(before);
    expect((await u.client.get("/api/me")).status).toBe(200);
    const stale = new Client();
    stale.cookie = before;
    expect((await stale.get("/api/me")).status).toBe(401);
  });

  it("a wrong password keeps the token and opens no sudo window", async () => {
    const u = await newUser();
    const before = u.client.cookie;
    const res = await u.client.post("/api/security/reauth", { password: `${PASSWORD}!` });
    expect(res.status).toBe(401);
    expect(res.headers.get("Set-Cookie")).toBeNull();
    expect(u.client.cookie).toBe(before);
    expect((await u.client.post("/api/security/backup-codes")).status).toBe(403);
  });
});
