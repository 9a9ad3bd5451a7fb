import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { rememberInGuard } from "../src/auth/remember-browser";
import { mintTrustedToken } from "../src/auth/trusted-cookie";
import { trustedBrowsersAllowed } from "../src/communities/trusted-policy";
import { Client, parseSetCookie } from "./support/client";
import { totpCode } from "./support/codes";
import {
  addAuthenticatorApp,
  communityWithMember,
  DAY_MS,
  enableTOTP,
  newUser,
  PASSWORD,
  reauth,
  recoveryClient,
  resetMember,
  resetWorld,
  type TestUser,
} from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { callerAt, eventTypesOf, everythingStored, guardRows } from "./support/stores";
import { browserWith, logInRemembering, passwordLogin, TrustedClient } from "./support/trusted";

/**
 * Attacks on "Remember this browser for 30 days" (docs/security.md "Trusted
 * browsers"). A remembered browser skips the second step only for the
 * account that remembered it, only until it is forgotten (one, all, or by any
 * change that forgets them all) and only for 30 days; a copy of the cookie
 * made before any of these is worth nothing after it.
 */

const lines: string[] = [];
const spies: MockInstance[] = [];
beforeAll(() => {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    spies.push(vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map((a) => String(a)).join(" "))));
  }
});
afterAll(() => {
  for (const s of spies) s.mockRestore();
});

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

/** A user with an authenticator app, and their browser, remembered at a full login. */
async function remembered(): Promise<{ user: TestUser; secret: string; backupCodes: string[]; browser: TrustedClient; cookie: string }> {
  const user = await newUser();
  const { secret, backupCodes } = await enableTOTP(user.client);
  const browser = new TrustedClient();
  await logInRemembering(browser, user.email, secret);
  expect(browser.trusted, "remembering sets __Host-trusted").toBeTruthy();
  return { user, secret, backupCodes, browser, cookie: browser.trusted as string };
}

async function expectSecondStep(cookie: string | null, email: string): Promise<void> {
  const login = await passwordLogin(browserWith(cookie), email);
  expect(login.status).toBe(200);
  expect(login.body.status).toBe("second_factor_required");
  expect(login.body.trustedBrowser).toBeUndefined();
}

async function expectSkipped(cookie: string, email: string): Promise<void> {
  const login = await passwordLogin(browserWith(cookie), email);
  expect(login.body).toEqual({ status: "authenticated", trustedBrowser: true });
}

describe("what a remembered browser may do", () => {
  it("a remembered browser skips the second step after the right password, and says so", async () => {
    const { user, browser, cookie } = await remembered();
    await expectSkipped(cookie, user.email);
    // The copy in `browser` itself works too, and the session it gets is a full one.
    const again = await passwordLogin(browser, user.email);
    expect(again.body).toEqual({ status: "authenticated", trustedBrowser: true });
    expect((await browser.json("GET", "/api/me")).body.stage).toBe("authenticated");
  });

  it("the cookie is __Host-, HttpOnly, Secure, SameSite=Lax and lives 30 days", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await passwordLogin(browser, user.email);
    const res = await browser.request("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret), rememberBrowser: true });
    expect(res.status).toBe(200);
    const set = parseSetCookie(res.headers.getSetCookie().find((c) => c.startsWith("__Host-trusted=")) ?? null);
    expect(set?.attributes).toEqual(expect.arrayContaining(["Max-Age=2592000", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"]));
    expect(set?.attributes.some((a) => a.startsWith("Domain"))).toBe(false);
  });

  it("without rememberBrowser nothing is remembered", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret, false);
    expect(browser.trusted).toBeNull();
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
  });

  it("it never replaces the password: a wrong password with the cookie is 401 invalid_credentials", async () => {
    const { user, cookie } = await remembered();
    const res = await browserWith(cookie).json("POST", "/api/auth/login", { email: user.email, password: `${PASSWORD}!` });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("invalid_credentials");
  });
});

describe("one account's cookie is worth nothing for another account", () => {
  it("Alice's remembered browser does not skip Bob's second step, nor does her secret under Bob's id", async () => {
    const alice = await remembered();
    const bob = await newUser();
    await enableTOTP(bob.client);
    // Bob logs in on Alice's remembered browser: her cookie goes along.
    const onAlicesBrowser = await passwordLogin(alice.browser, bob.email);
    expect(onAlicesBrowser.body.status).toBe("second_factor_required");
    expect(onAlicesBrowser.body.trustedBrowser).toBeUndefined();
    // Her cookie was never looked up for Bob (it names Alice), so it was not judged dead and cleared either.
    expect(alice.browser.trusted, "Bob's login leaves Alice's cookie alone").toBe(alice.cookie);
    // The cookie names its account: relabelled for Bob, Alice's secret is refused by Bob's guard.
    const secretPart = alice.cookie.slice(alice.cookie.indexOf(".") + 1);
    await expectSecondStep(`${bob.id}.${secretPart}`, bob.email);
    // Alice's own cookie still works for Alice.
    await expectSkipped(alice.cookie, alice.user.email);
  });

  it("Bob cannot see or forget Alice's browsers: her id is 404 not_found to him", async () => {
    const alice = await remembered();
    const [aliceBrowser] = (await alice.user.client.json("GET", "/api/security/trusted-browsers")).body.browsers;
    const bob = await newUser();
    expect((await bob.client.json("GET", "/api/security/trusted-browsers")).body.browsers).toEqual([]);
    const res = await bob.client.json("DELETE", `/api/security/trusted-browsers/${aliceBrowser.id}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("not_found");
    await expectSkipped(alice.cookie, alice.user.email);
  });
});

describe("a copied cookie is refused once the browser is forgotten", () => {
  it("after Forget (this one)", async () => {
    const { user, cookie } = await remembered();
    const list = (await user.client.json("GET", "/api/security/trusted-browsers")).body.browsers;
    expect(list).toHaveLength(1);
    expect((await user.client.json("DELETE", `/api/security/trusted-browsers/${list[0].id}`)).status).toBe(204);
    await expectSecondStep(cookie, user.email);
    expect((await user.client.json("GET", "/api/security/trusted-browsers")).body.browsers).toEqual([]);
  });

  it("after Forget all, every remembered browser is refused", async () => {
    const { user, backupCodes, cookie } = await remembered();
    // A second browser, remembered with a backup code (the app's current step is spent).
    const second = new TrustedClient();
    await passwordLogin(second, user.email);
    expect((await second.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0], rememberBrowser: true })).status).toBe(200);
    expect((await user.client.json("GET", "/api/security/trusted-browsers")).body.browsers).toHaveLength(2);
    expect((await user.client.json("DELETE", "/api/security/trusted-browsers")).status).toBe(204);
    await expectSecondStep(cookie, user.email);
    await expectSecondStep(second.trusted, user.email);
  });

  it("after an admin's reset, even once a new method is set up", async () => {
    const world = await resetWorld();
    const browser = new TrustedClient();
    await logInRemembering(browser, world.member.email, world.totp.secret);
    const cookie = browser.trusted as string;
    expect(cookie).toBeTruthy();
    const { recoveryCode } = await resetMember(world);
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    const recovering = await recoveryClient(world.member);
    expect((await recovering.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).status).toBe(200);
    await addAuthenticatorApp(recovering, { reauth: false });
    await expectSecondStep(cookie, world.member.email);
  });

  it("after 2FA is disabled and turned on again", async () => {
    const { user, cookie } = await remembered();
    expect((await user.client.json("POST", "/api/security/disable", { password: PASSWORD })).status).toBe(200);
    await enableTOTP(user.client);
    await expectSecondStep(cookie, user.email);
  });

  it("after a method is removed", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const spare = await addAuthenticatorApp(user.client, { name: "Spare" });
    const browser = new TrustedClient();
    await logInRemembering(browser, user.email, secret);
    expect(browser.trusted).toBeTruthy();
    await expectSkipped(browser.trusted as string, user.email);
    await reauth(user.client);
    expect((await user.client.json("DELETE", `/api/security/methods/${spare.methodId}`)).status).toBe(204);
    await expectSecondStep(browser.trusted, user.email);
  });
});

describe("a new password forgets every remembered browser", () => {
  const NEW_PASSWORD = "a new password nobody else has seen";

  /** A password login with `password` from a browser holding only a copy of `cookie`. */
  async function loginWith(cookie: string, email: string, password: string): Promise<{ status: number; body: any }> {
    const res = await browserWith(cookie).json("POST", "/api/auth/login", { email, password });
    return { status: res.status, body: res.body };
  }

  it("after a password change from the Security page, the copied cookie no longer skips the second step", async () => {
    const { user, cookie } = await remembered();
    await expectSkipped(cookie, user.email);
    const changed = await user.client.json("POST", "/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(204);
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    const login = await loginWith(cookie, user.email, NEW_PASSWORD);
    expect(login.status).toBe(200);
    expect(login.body.status).toBe("second_factor_required");
    expect(login.body.trustedBrowser).toBeUndefined();
  });

  it("after a password reset through the emailed link, the copied cookie no longer skips the second step", async () => {
    const { user, cookie } = await remembered();
    await expectSkipped(cookie, user.email);
    const previous = mail.lastToken(user.email, "reset-password");
    expect((await new Client().post("/api/auth/password-reset", { email: user.email })).status).toBe(202);
    const token = await mail.nextToken(user.email, "reset-password", previous);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    const login = await loginWith(cookie, user.email, NEW_PASSWORD);
    expect(login.status).toBe(200);
    expect(login.body.status).toBe("second_factor_required");
    expect(login.body.trustedBrowser).toBeUndefined();
  });
});

describe("30 days, on the clock the service reads", () => {
  it("accepted 1 ms before 30 days, refused at exactly 30 days", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const user = await newUser();
      const { secret } = await enableTOTP(user.client);
      const browser = new TrustedClient();
      const t0 = Date.now();
      await logInRemembering(browser, user.email, secret);
      const cookie = browser.trusted as string;
      const [row] = await guardRows<{ created_at: number; expires_at: number }>(user.id, "SELECT created_at, expires_at FROM trusted_browsers");
      expect(row?.created_at).toBe(t0);
      vi.setSystemTime(t0 + 30 * DAY_MS - 1);
      await expectSkipped(cookie, user.email);
      // Using it does not extend it.
      vi.setSystemTime(t0 + 30 * DAY_MS);
      await expectSecondStep(cookie, user.email);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("the token is a secret", () => {
  it("it is never stored in plain text and never written to a log line", async () => {
    const { user, cookie } = await remembered();
    await expectSkipped(cookie, user.email);
    const list = (await user.client.json("GET", "/api/security/trusted-browsers")).body.browsers;
    await user.client.json("DELETE", `/api/security/trusted-browsers/${list[0].id}`);
    const secretPart = cookie.slice(cookie.indexOf(".") + 1);
    expect(secretPart.length).toBeGreaterThanOrEqual(43); // 256 bits in base64url
    const stored = await everythingStored(user.id);
    expect(stored.includes(secretPart)).toBe(false);
    expect(lines.some((l) => l.includes(secretPart))).toBe(false);
    // Nor is its id the token or its hash.
    expect(JSON.stringify(list)).not.toContain(secretPart);
  });
});

describe("communities that forbid trusted browsers", () => {
  // A remembered browser replayed after its community forbids them: test/policy.security.test.ts.
  it("rememberBrowser is ignored while a community of the user forbids it: no cookie, nothing stored or logged, the next login asks again", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    await reauth(world.admin.client);
    const put = await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, {
      requireTwoFactor: false,
      graceDays: 0,
      allowTrustedBrowsers: false,
    });
    expect(put.status).toBe(200);
    const { secret } = await enableTOTP(world.member.client);
    const browser = new TrustedClient();
    const answer = await logInRemembering(browser, world.member.email, secret);
    expect(answer).toMatchObject({ status: "authenticated", browserRemembered: false });
    expect(browser.trusted).toBeNull();
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    // The route's own read of the policy refuses before the guard is asked: the member's log does not say a
    // browser was remembered, then forgotten by the policy (the guard commits its events before it answers).
    const logged = await eventTypesOf(world.member.id);
    expect(logged).not.toContain("trusted_browser_added");
    expect(logged).not.toContain("trusted_browser_removed");
    expect((await passwordLogin(browser, world.member.email)).body.status).toBe("second_factor_required");
  });

  it("joining a community that forbids them forgets the browsers already remembered: leaving it again does not bring them back", async () => {
    const admin = await newUser({ community: "No remembered browsers" });
    await enableTOTP(admin.client);
    await reauth(admin.client);
    const cid = admin.communityId as string;
    const policy = { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false };
    expect((await admin.client.json("PUT", `/api/communities/${cid}/policy`, policy)).status).toBe(200);
    const { user, cookie } = await remembered();
    const invite = await admin.client.json("POST", `/api/communities/${cid}/invitations`, { email: user.email, role: "member" });
    expect((await user.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
    await expectSecondStep(cookie, user.email);
    expect((await user.client.json("DELETE", `/api/communities/${cid}/members/${user.id}`)).status).toBe(204);
    await expectSecondStep(cookie, user.email);
  });

  it("a policy that forbids them is obeyed at login from the moment it is in D1, before its change has forgotten the member's browsers", async () => {
    const world = await communityWithMember();
    const { secret } = await enableTOTP(world.member.client);
    const browser = new TrustedClient();
    await logInRemembering(browser, world.member.email, secret);
    const cookie = browser.trusted as string;
    await expectSkipped(cookie, world.member.email);
    // The policy route saves the policy, then asks each member's guard to forget: a login in between finds the
    // browser still remembered in the guard, and only the login's own read of the policy refuses it.
    await env.DB.prepare("UPDATE communities SET allow_trusted_browsers = 0 WHERE id = ?").bind(world.cid).run();
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toHaveLength(1);
    await expectSecondStep(cookie, world.member.email);
  });

  /**
   * The second step's "Remember this browser" reads the policy in D1, then has the guard remember the browser
   * (src/auth/remember-browser.ts). A change that forbids remembered browsers landing between the two forgot
   * the member's browsers before this one was there, so it stayed: refused at login while the policy stands,
   * skipping the second step again once the user leaves. Driven here step by step: the route's read, the
   * change, then the route's step after its read.
   */
  it("a policy change that forbids them, landing between the second step's read of the policy and the guard's remembering, leaves no browser remembered (R12b)", async () => {
    const world = await communityWithMember();
    await enableTOTP(world.admin.client);
    await reauth(world.admin.client);
    await enableTOTP(world.member.client);
    const { token, hash } = mintTrustedToken(world.member.id);
    // The route's read: every community of the member allows remembered browsers.
    expect(await trustedBrowsersAllowed(env.DB, world.member.id)).toBe(true);
    const policy = { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false };
    expect((await world.admin.client.json("PUT", `/api/communities/${world.cid}/policy`, policy)).status).toBe(200);
    // The route's step after its read, which set the cookie when it answered true.
    const kept = await rememberInGuard(env, callerAt(world.member, Date.now(), "authenticated"), hash);
    // Whatever the route did with the cookie, the token must be worth nothing once the member leaves.
    expect((await world.member.client.json("DELETE", `/api/communities/${world.cid}/members/${world.member.id}`)).status).toBe(204);
    await expectSecondStep(token, world.member.email);
    expect(kept, "the route is told not to set the cookie").toBe(false);
    expect(await guardRows(world.member.id, "SELECT id FROM trusted_browsers")).toEqual([]);
  });

  it("joining a community that forbids them between the second step's read of the policy and the guard's remembering leaves no browser remembered (R12b)", async () => {
    const admin = await newUser({ community: "No remembered browsers" });
    await enableTOTP(admin.client);
    await reauth(admin.client);
    const cid = admin.communityId as string;
    const policy = { requireTwoFactor: false, graceDays: 0, allowTrustedBrowsers: false };
    expect((await admin.client.json("PUT", `/api/communities/${cid}/policy`, policy)).status).toBe(200);
    const user = await newUser();
    await enableTOTP(user.client);
    const invite = await admin.client.json("POST", `/api/communities/${cid}/invitations`, { email: user.email, role: "member" });
    const { token, hash } = mintTrustedToken(user.id);
    expect(await trustedBrowsersAllowed(env.DB, user.id)).toBe(true);
    expect((await user.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
    const kept = await rememberInGuard(env, callerAt(user, Date.now(), "authenticated"), hash);
    expect((await user.client.json("DELETE", `/api/communities/${cid}/members/${user.id}`)).status).toBe(204);
    await expectSecondStep(token, user.email);
    expect(kept, "the route is told not to set the cookie").toBe(false);
    expect(await guardRows(user.id, "SELECT id FROM trusted_browsers")).toEqual([]);
  });
});
