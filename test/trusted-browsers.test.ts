import { describe, expect, it } from "vitest";
import { AGENTS, withUserAgent } from "./support/client";
import { wrongTOTP } from "./support/codes";
import { enableTOTP, newUser, recoveryLogin } from "./support/fixtures";
import { callerAt, eventTypesOf, guard, guardRows } from "./support/stores";
import { browserWith, logInRemembering, passwordLogin, TrustedClient } from "./support/trusted";

/** The Security page's list of remembered browsers, and what each change leaves in the log (docs/api.md "Trusted browsers"). */

describe("GET /api/security/trusted-browsers", () => {
  it("lists each browser in words with its address and dates, marks the one asking, and never shows a token", async () => {
    const user = await newUser();
    const { secret, backupCodes } = await enableTOTP(user.client);
    const laptop = withUserAgent(new TrustedClient(), AGENTS.laptop[0]);
    const body = await logInRemembering(laptop, user.email, secret);
    expect(body).toEqual({ status: "authenticated", browserRemembered: true });
    const phone = withUserAgent(new TrustedClient(), AGENTS.phone[0]);
    await passwordLogin(phone, user.email);
    expect((await phone.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0], rememberBrowser: true })).status).toBe(200);

    const res = await laptop.json("GET", "/api/security/trusted-browsers");
    expect(res.status).toBe(200);
    const [newest, oldest] = res.body.browsers;
    expect(res.body.browsers).toHaveLength(2);
    expect(newest).toMatchObject({ current: false, browser: AGENTS.phone[1], ip: phone.ip, lastUsedAt: null });
    expect(oldest).toMatchObject({ current: true, browser: AGENTS.laptop[1], ip: laptop.ip, lastUsedAt: null });
    expect(Date.parse(oldest.expiresAt) - Date.parse(oldest.createdAt)).toBe(30 * 24 * 60 * 60 * 1000);
    expect(Object.keys(oldest).sort()).toEqual(["browser", "createdAt", "current", "expiresAt", "id", "ip", "lastUsedAt", "userAgent"]);
    expect(JSON.stringify(res.body)).not.toContain(laptop.trusted!.split(".")[1]);

    // Its use is recorded: when and from where.
    const elsewhere = browserWith(laptop.trusted);
    expect((await passwordLogin(elsewhere, user.email)).body.trustedBrowser).toBe(true);
    const after = (await user.client.json("GET", "/api/security/trusted-browsers")).body.browsers.find((b: { id: string }) => b.id === oldest.id);
    expect(after.ip).toBe(elsewhere.ip);
    expect(after.lastUsedAt).not.toBeNull();
    expect(after.current).toBe(false);
  });

  it("needs an authenticated session: a second-step session gets 403 second_factor_required", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = new TrustedClient();
    await passwordLogin(half, user.email);
    const res = await half.json("GET", "/api/security/trusted-browsers");
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("second_factor_required");
  });
});

describe("forgetting", () => {
  it("Forget on the browser itself clears its cookie; every change is in the log", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    const [mine] = (await browser.json("GET", "/api/security/trusted-browsers")).body.browsers;
    const res = await browser.request("DELETE", `/api/security/trusted-browsers/${mine.id}`);
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().some((c) => /^__Host-trusted=;/.test(c) && /Max-Age=0/.test(c))).toBe(true);
    expect(browser.trusted).toBeNull();
    const again = await browser.json("DELETE", `/api/security/trusted-browsers/${mine.id}`);
    expect(again.status).toBe(404);
    expect(await eventTypesOf(user.id)).toEqual(expect.arrayContaining(["trusted_browser_added", "trusted_browser_removed"]));
  });

  it("Forget all with none remembered is 204 and logs nothing", async () => {
    const user = await newUser();
    expect((await user.client.json("DELETE", "/api/security/trusted-browsers")).status).toBe(204);
    expect(await eventTypesOf(user.id)).not.toContain("trusted_browser_removed");
  });

  it("a login with a forgotten token clears the cookie", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    await user.client.json("DELETE", "/api/security/trusted-browsers");
    expect((await passwordLogin(browser, user.email)).body.status).toBe("second_factor_required");
    expect(browser.trusted).toBeNull();
  });
});

describe("the guard's call for changes made outside it (a password changed or reset, a community's policy)", () => {
  it("forgetTrustedBrowsers forgets every browser of the user, logs it once with its reason, and a copy is refused", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    const result = await guard(user.id).forgetTrustedBrowsers(callerAt(user, Date.now(), "authenticated"), "password_changed");
    expect(result).toEqual({ count: 1 });
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    expect((await passwordLogin(browserWith(browser.trusted), user.email)).body.status).toBe("second_factor_required");
    await expect.poll(async () => (await eventTypesOf(user.id)).filter((t) => t === "trusted_browser_removed").length, { timeout: 2000 }).toBe(1);
    // Nothing left: a second call records nothing.
    expect(await guard(user.id).forgetTrustedBrowsers(callerAt(user, Date.now(), "authenticated"), "password_changed")).toEqual({ count: 0 });
  });
});

describe("a lock of the second step", () => {
  it("does not stop a remembered browser, and the second step stays locked", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    const half = new TrustedClient();
    await passwordLogin(half, user.email);
    for (let i = 0; i < 10; i++) await half.json("POST", "/api/auth/verify", { method: "totp", code: wrongTOTP(secret) });
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: wrongTOTP(secret) })).status).toBe(429);
    expect((await passwordLogin(browserWith(browser.trusted), user.email)).body).toEqual({ status: "authenticated", trustedBrowser: true });
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: wrongTOTP(secret) })).status).toBe(429);
  });
});

describe("rememberBrowser at the recovery step", () => {
  it("is ignored: a recovery code leads to enrollment, and no browser is remembered", async () => {
    const { member, code } = await recoveryLogin();
    const browser = new TrustedClient();
    await passwordLogin(browser, member.email);
    const res = await browser.json("POST", "/api/auth/verify", { method: "recovery_code", code, rememberBrowser: true });
    expect(res.body).toEqual({ status: "enrollment_required" });
    expect(browser.trusted).toBeNull();
  });
});
