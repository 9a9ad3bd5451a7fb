import { describe, expect, it } from "vitest";
import { Client } from "./support/client";
import { totpCode } from "./support/codes";
import { enableTOTP, newUser, PASSWORD } from "./support/fixtures";

describe("smoke", () => {
  it("signs up, logs in, enables TOTP, logs in with TOTP", async () => {
    const u = await newUser({ community: "Acme" });
    const me = await u.client.json("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.communities[0].role).toBe("admin");
    const { secret, backupCodes } = await enableTOTP(u.client);
    expect(backupCodes).toHaveLength(10);
    const c2 = new Client();
    const login = await c2.json("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(login.body).toEqual({ status: "second_factor_required", methods: ["totp", "backup_code"], preferred: "totp" });
    const v = await c2.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(v.body).toEqual({ status: "authenticated" });
    const sec = await c2.json("GET", "/api/security");
    expect(sec.status).toBe(200);
    console.log(JSON.stringify(sec.body).slice(0, 500));
  });
});
