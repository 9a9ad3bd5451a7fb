import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { hashPassword } from "../src/auth/passwords";
import worker from "../src/index";
import { AGENTS, BrowserClient, Client, ORIGIN, withUserAgent } from "./support/client";
import { totpCode } from "./support/codes";
import { addAuthenticatorApp, enableTOTP, PASSWORD, proveEmail, resetMember, resetWorld, uniqueEmail } from "./support/fixtures";
import { eventTypesOf, guardRows, outboxOf } from "./support/stores";

/**
 * New-browser alerts (docs/security.md "Sessions"): a full login from a
 * browser without a valid device cookie for the account emails its owner,
 * through the real outbox and the real send_email binding (spied on, called
 * through, as in outbox.test.ts). Not the first login after signup; never a
 * token, a code or a name someone else chose in the subject.
 */

type Sent = { to: string; subject: string; text: string };

let send: MockInstance;
beforeEach(() => {
  const binding = env.EMAIL;
  const real = binding.send;
  send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => Reflect.apply(real, binding, [message]));
});
afterEach(() => send.mockRestore());

function alertsTo(email: string): Sent[] {
  return send.mock.calls.map((call) => call[0] as Sent).filter((m) => m.to === email && /new browser/i.test(m.subject));
}

async function signUp(name = "Ada"): Promise<{ id: string; email: string }> {
  const email = uniqueEmail("alert");
  const res = await new Client().json("POST", "/api/auth/signup", { email, password: PASSWORD, name });
  expect(res.status).toBe(201);
  return { id: res.body.user.id, email };
}

async function logInFrom(client: Client, email: string): Promise<string> {
  const res = await client.json("POST", "/api/auth/login", { email, password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.status;
}

describe("new-browser alerts", () => {
  it("the first login after signup sends none; a second browser gets one; the same browser again gets none", async () => {
    const user = await signUp();
    const first = withUserAgent(new BrowserClient(), AGENTS.laptop[0]);
    expect(await logInFrom(first, user.email)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(0);

    const second = withUserAgent(new BrowserClient("198.51.100.7"), AGENTS.desk[0]);
    expect(await logInFrom(second, user.email)).toBe("authenticated");
    const alerts = alertsTo(user.email);
    expect(alerts).toHaveLength(1);
    const [alert] = alerts;
    expect(alert?.text).toContain("198.51.100.7");
    expect(alert?.text).toContain(AGENTS.desk[1]);
    expect(alert?.text).toContain("http://localhost/reset-password");
    expect(alert?.text).toMatch(/When: \w+day, \w+ \d{1,2}, \d{4} at .* UTC/);

    // Both browsers again, each with the device cookie it was given: nothing new.
    expect(await logInFrom(second, user.email)).toBe("authenticated");
    expect(await logInFrom(first, user.email)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(1);

    // The outbox keeps it, and the Security log shows it.
    expect((await outboxOf(user.id)).filter((m) => m.template === "new_browser_login")).toHaveLength(1);
    expect((await eventTypesOf(user.id)).filter((t) => t === "new_browser_login")).toHaveLength(1);
  });

  it("carries no session token, device token or code, and its subject no name typed by anyone", async () => {
    const user = await signUp('Mallory "Security Team" <click http://evil.example>');
    await logInFrom(new BrowserClient(), user.email);
    const intruder = withUserAgent(new BrowserClient(), "Mozilla/5.0 visit http://evil.example/fix now");
    await logInFrom(intruder, user.email);
    const [alert] = alertsTo(user.email);
    expect(alert).toBeDefined();
    for (const secret of [intruder.cookie, intruder.device]) {
      expect(secret).toBeTruthy();
      expect(alert?.text).not.toContain(secret as string);
      expect(alert?.subject).not.toContain(secret as string);
    }
    expect(alert?.text).not.toMatch(/#token=|token=/);
    expect(alert?.subject).toBe("New sign-in to your account from a new browser");
    expect(alert?.text).not.toContain("Mallory");
    // The User-Agent is never copied: only words from the fixed list.
    expect(alert?.text).not.toContain("evil.example");
  });

  it("with 2FA on, the alert waits for the second step: a password alone sends nothing", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const { secret, backupCodes } = await enableTOTP(home);
    const before = alertsTo(user.email).length;

    const intruder = new BrowserClient();
    expect(await logInFrom(intruder, user.email)).toBe("second_factor_required");
    expect(alertsTo(user.email)).toHaveLength(before);

    const traveller = new BrowserClient();
    expect(await logInFrom(traveller, user.email)).toBe("second_factor_required");
    const verified = await traveller.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) });
    expect(verified.status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before + 1);

    // The home browser, which holds a device cookie, passes both steps without an alert.
    // (A backup code: this step's TOTP code was just spent by the traveller.)
    expect(await logInFrom(home, user.email)).toBe("second_factor_required");
    expect((await home.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before + 1);
  });

  it("an intruder who stops at the second step and logs in again cannot hide the alert: a password alone mints no device cookie", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const { backupCodes } = await enableTOTP(home);
    const before = alertsTo(user.email).length;

    // The intruder knows the password and has one code; the first login is dropped at the second step.
    const intruder = new BrowserClient();
    expect(await logInFrom(intruder, user.email)).toBe("second_factor_required");
    expect(intruder.device).toBeNull();
    expect(await logInFrom(intruder, user.email)).toBe("second_factor_required");
    expect((await intruder.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before + 1);
    // Only now is the intruder's browser one the account has seen.
    expect(intruder.device).toBeTruthy();
  });

  it("the browser that recovered after an admin's reset is a known one once its new method is set up: no alert at its next login", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const member = world.member;
    const browser = new BrowserClient();
    expect(await logInFrom(browser, member.email)).toBe("recovery_code_required");
    expect(browser.device).toBeNull();
    expect((await browser.json("POST", "/api/auth/verify", { method: "recovery_code", code: recoveryCode })).body).toEqual({ status: "enrollment_required" });
    const { backupCodes } = await addAuthenticatorApp(browser, { reauth: false });
    expect(browser.device).toBeTruthy();

    const before = alertsTo(member.email).length;
    expect(await logInFrom(browser, member.email)).toBe("second_factor_required");
    expect((await browser.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes![0] })).status).toBe(200);
    expect(alertsTo(member.email)).toHaveLength(before);
  });

  it("a device cookie minted for another account does not count as this account's browser", async () => {
    const victim = await signUp();
    const attacker = await signUp();
    await logInFrom(new BrowserClient(), victim.email);
    const browser = new BrowserClient();
    await logInFrom(browser, attacker.email);
    expect(browser.device).toBeTruthy();
    await logInFrom(browser, victim.email);
    expect(alertsTo(victim.email)).toHaveLength(1);
  });

  it("a script that signs up with someone else's address and logs in again and again without cookies sends that address 3 alerts, then one every 10 minutes until it is proven; every login is still in the log", async () => {
    // No proof of the address is needed to log in, and a right password gives the login throttle's tokens back:
    // each login from an empty cookie jar emailed the address an alert, as many as the script cared to make.
    const victim = await signUp();
    await logInFrom(new Client(), victim.email);
    for (let i = 0; i < 8; i++) expect(await logInFrom(new Client(), victim.email)).toBe("authenticated");
    expect(alertsTo(victim.email)).toHaveLength(3);
    expect((await eventTypesOf(victim.id)).filter((t) => t === "new_browser_login")).toHaveLength(8);

    // An address proven by its owner hears of every new browser: whoever logs in there holds the password.
    const owner = await signUp();
    await logInFrom(new Client(), owner.email);
    await proveEmail(owner.id);
    for (let i = 0; i < 5; i++) await logInFrom(new Client(), owner.email);
    expect(alertsTo(owner.email)).toHaveLength(5);
  });
});

describe("a password change or reset makes every other browser new again (docs/security.md R10d)", () => {
  const NEW_PASSWORD = "a brand new password of mine";

  async function logInWith(client: Client, email: string, password: string): Promise<string> {
    const res = await client.json("POST", "/api/auth/login", { email, password });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.status;
  }

  /** The reset link's token, read from the email as its owner would (it is sent after the answer). */
  async function resetLinkToken(email: string): Promise<string> {
    expect((await new Client().post("/api/auth/password-reset", { email })).status).toBe(202);
    return vi.waitFor(
      () => {
        for (const call of send.mock.calls) {
          const m = call[0] as Sent;
          const found = m.to === email ? /\/reset-password#token=([A-Za-z0-9_.-]+)/.exec(m.text) : null;
          if (found) return found[1] as string;
        }
        throw new Error("no reset link yet");
      },
      { timeout: 10_000, interval: 10 },
    );
  }

  it("after a reset by email, an intruder's browser that logged in before and learns the new password is announced again", async () => {
    const user = await signUp();
    await logInFrom(new BrowserClient(), user.email);
    const intruder = new BrowserClient();
    expect(await logInFrom(intruder, user.email)).toBe("authenticated");
    expect(intruder.device).toBeTruthy();
    const before = alertsTo(user.email).length;

    const token = await resetLinkToken(user.email);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD })).status).toBe(204);

    expect(await logInWith(intruder, user.email, NEW_PASSWORD)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(before + 1);
  });

  it("after a change from the owner's browser, another browser is announced again and the owner's is not", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const intruder = new BrowserClient();
    await logInFrom(intruder, user.email);
    expect(intruder.device).toBeTruthy();
    const before = alertsTo(user.email).length;

    const changed = await home.request("POST", "/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(204);

    expect(await logInWith(home, user.email, NEW_PASSWORD)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(before);
    expect(await logInWith(intruder, user.email, NEW_PASSWORD)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(before + 1);
    // From then on the intruder's browser is known again, to the new password.
    expect(await logInWith(intruder, user.email, NEW_PASSWORD)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(before + 1);
  });

  it("with 2FA on, the second step of a browser known before the change is announced; the owner's browser passes both steps quietly", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const { secret, backupCodes } = await enableTOTP(home);
    const intruder = new BrowserClient();
    expect(await logInFrom(intruder, user.email)).toBe("second_factor_required");
    expect((await intruder.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).status).toBe(200);
    expect(intruder.device).toBeTruthy();
    const before = alertsTo(user.email).length;

    const changed = await home.request("POST", "/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(changed.status).toBe(204);

    expect(await logInWith(intruder, user.email, NEW_PASSWORD)).toBe("second_factor_required");
    expect((await intruder.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before + 1);

    expect(await logInWith(home, user.email, NEW_PASSWORD)).toBe("second_factor_required");
    expect((await home.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[1] })).status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before + 1);
  });

  it("a half session recorded before the guard kept the password generation completes its second step but makes no device", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const { secret } = await enableTOTP(home);
    const browser = new BrowserClient();
    expect(await logInFrom(browser, user.email)).toBe("second_factor_required");
    // As guard migration 8 leaves a half session that was open across the upgrade.
    expect(await guardRows(user.id, "UPDATE half_sessions SET device_generation = NULL RETURNING id")).toHaveLength(1);
    expect((await browser.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).status).toBe(200);
    expect(browser.device).toBeNull();
  });

  it("a login that upgrades an old hash keeps its browser known: the new hash keeps the salt its cookie is minted for", async () => {
    const user = await signUp();
    await logInFrom(new BrowserClient(), user.email);
    // A hash from before the cost was raised: the next correct login stores a new hash, under the same salt.
    const cheap = await hashPassword(PASSWORD, { iterations: 500 });
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(cheap, user.id).run();
    const browser = new BrowserClient();
    expect(await logInFrom(browser, user.email)).toBe("authenticated");
    const upgraded = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<string>("password_hash");
    expect(upgraded).not.toBe(cheap);
    const before = alertsTo(user.email).length;
    expect(await logInFrom(browser, user.email)).toBe("authenticated");
    expect(alertsTo(user.email)).toHaveLength(before);
  });

  /** A login served by a Worker deployed with a higher PASSWORD_ITERATIONS (docs/passwords.md "Raising the cost later"), from a browser of its own. */
  async function logInAfterCostRaised(email: string): Promise<{ status: number; body: { status?: string } }> {
    const raised = { ...env, PASSWORD_ITERATIONS: String(Number(env.PASSWORD_ITERATIONS) * 2) };
    const ctx = createExecutionContext();
    const req = new Request(`${ORIGIN}/api/auth/login`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.66" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    const res = await worker.fetch(req, raised as never, ctx);
    await waitOnExecutionContext(ctx);
    return { status: res.status, body: (await res.json()) as { status?: string } };
  }

  it("raising the password's cost changes no password: a re-hash, even by someone who has only the password, leaves the owner's browsers known", async () => {
    const user = await signUp();
    const home = new BrowserClient();
    await logInFrom(home, user.email);
    const { backupCodes } = await enableTOTP(home);
    expect(home.device).toBeTruthy();
    const before = alertsTo(user.email).length;

    // Someone who has only the password stops at the second step; their correct password still re-hashes at the new cost.
    const stranger = await logInAfterCostRaised(user.email);
    expect(stranger).toEqual({ status: 200, body: expect.objectContaining({ status: "second_factor_required" }) });
    const stored = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(user.id).first<string>("password_hash");
    expect(stored?.split("$")[1]).toBe(String(Number(env.PASSWORD_ITERATIONS) * 2));

    // The owner's browser is still one of the account's: no new-browser alert for its next login.
    expect(await logInFrom(home, user.email)).toBe("second_factor_required");
    expect((await home.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).status).toBe(200);
    expect(alertsTo(user.email)).toHaveLength(before);
  });
});
