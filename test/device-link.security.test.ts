import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { newUser, PASSWORD } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { callerAt, guard, guardRows, worldSnapshot } from "./support/stores";

/**
 * The owner is never kept out: someone who keeps the email's login bucket
 * empty gets 429 forever, and so does the owner from a new browser; but the
 * owner's right password emails them a one-time link that gives that browser
 * its own bucket. A wrong password in the same state sends nothing.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

/** Empties the email's login bucket (10 wrong passwords, from an attacker's address). */
async function keepOut(email: string): Promise<void> {
  const attacker = new Client();
  for (let i = 0; i < 10; i++) await expectProblem(await attacker.post("/api/auth/login", { email, password: `wrong guess ${i}` }), 401, "invalid_credentials");
  await expectProblem(await attacker.post("/api/auth/login", { email, password: "wrong again" }), 429, "too_many_attempts");
}

function deviceCookieOf(res: Response): string | null {
  const set = res.headers.getSetCookie().find((c) => c.startsWith("__Host-device="));
  return set ? (/^__Host-device=([^;]+)/.exec(set)?.[1] ?? null) : null;
}

function deviceMails(mailbox: Mailbox, email: string) {
  return mailbox.to(email).filter((m) => m.text.includes("/device#token="));
}

describe("device link", () => {
  it("a right password while the bucket is empty answers 429 like a wrong one, and only the right one emails a link that lets this browser in", async () => {
    const user = await newUser();
    await keepOut(user.email);
    const owner = new Client();
    const wrong = await owner.post("/api/auth/login", { email: user.email, password: "not the password" });
    await expectProblem(wrong, 429, "too_many_attempts");
    const right = await owner.post("/api/auth/login", { email: user.email, password: PASSWORD });
    await expectProblem(right, 429, "too_many_attempts");
    expect(right.headers.get("Retry-After")).toBe(wrong.headers.get("Retry-After"));
    const token = await mail.nextToken(user.email, "device");
    expect(token.startsWith(`${user.id}.`)).toBe(true);
    expect(deviceMails(mail, user.email)).toHaveLength(1);

    // Opened in the owner's browser: it gets a device cookie for this account, and logs in.
    const opened = await owner.request("POST", "/api/auth/device-link", { token });
    expect(opened.status).toBe(204);
    const device = deviceCookieOf(opened);
    expect(device).toBeTruthy();
    const login = await owner.request("POST", "/api/auth/login", { email: user.email, password: PASSWORD }, { Cookie: `__Host-device=${device}` });
    expect(login.status).toBe(200);
    // The link works once.
    await expectProblem(await owner.post("/api/auth/device-link", { token }), 400, "invalid_token");
    // The attacker is still slowed down.
    await expectProblem(await new Client().post("/api/auth/login", { email: user.email, password: "guess" }), 429, "too_many_attempts");
  });

  it("another account's device link opened in the owner's browser does not take that browser's own bucket away", async () => {
    // The owner's browser is a known device of the owner's account.
    const owner = await newUser();
    const browser = new Client();
    const first = await browser.request("POST", "/api/auth/login", { email: owner.email, password: PASSWORD });
    expect(first.status).toBe(200);
    const ownDevice = deviceCookieOf(first)!;
    expect(ownDevice).toBeTruthy();
    // The attacker gets a device link for an account of their own (its bucket emptied, its right password typed)
    // and has the owner open it: the page posts it on load.
    const mallory = await newUser();
    await keepOut(mallory.email);
    await expectProblem(await new Client().post("/api/auth/login", { email: mallory.email, password: PASSWORD }), 429, "too_many_attempts");
    const token = await mail.nextToken(mallory.email, "device");
    const opened = await browser.request("POST", "/api/auth/device-link", { token }, { Cookie: `__Host-device=${ownDevice}` });
    expect(opened.status).toBe(204);
    const device = deviceCookieOf(opened)!;
    // Then the attacker keeps the owner's email bucket empty: the owner's browser still logs in with its own bucket,
    // and the link still did what it says for the other account.
    await keepOut(owner.email);
    const login = await browser.request("POST", "/api/auth/login", { email: owner.email, password: PASSWORD }, { Cookie: `__Host-device=${device}` });
    expect(login.status).toBe(200);
    const other = await browser.request("POST", "/api/auth/login", { email: mallory.email, password: PASSWORD }, { Cookie: `__Host-device=${device}` });
    expect(other.status).toBe(200);
  });

  it("at most one link every few minutes per account: the inbox cannot be flooded", async () => {
    const user = await newUser();
    const who = { id: user.id, email: user.email, name: user.name };
    const now = Date.now();
    const content = { subject: "s", text: "t", template: "device_link" };
    expect(await guard(user.id).issueToken(callerAt(who, now), "device_link", content)).toEqual({ ok: true });
    expect(await guard(user.id).issueToken(callerAt(who, now + 4 * 60_000), "device_link", content)).toEqual({ ok: false, reason: "too_soon" });
    expect(await guard(user.id).issueToken(callerAt(who, now + 5 * 60_000), "device_link", content)).toEqual({ ok: true });
    const [row] = await guardRows<{ created_at: number; expires_at: number }>(
      user.id,
      "SELECT created_at, expires_at FROM tokens WHERE purpose = 'device_link'",
    );
    expect(row!.expires_at - row!.created_at).toBe(15 * 60_000);
  });

  it("malformed, unknown and other users' tokens are 400 invalid_token and set no cookie", async () => {
    const user = await newUser();
    const before = await worldSnapshot();
    for (const token of ["", "x.y", `${user.id}.${"C".repeat(43)}`, `${"D".repeat(22)}.${"C".repeat(43)}`]) {
      const res = await new Client().post("/api/auth/device-link", { token });
      expect(res.status).toBe(400);
      expect(deviceCookieOf(res)).toBeNull();
    }
    expect(await worldSnapshot()).toEqual(before);
  });
});
