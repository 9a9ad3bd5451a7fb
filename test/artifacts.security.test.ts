import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrowserClient, Client, expectProblem, parseSetCookie } from "./support/client";
import { newUser, PASSWORD } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";

/**
 * One stolen artifact at a time, and every action of the owner's that the
 * docs say ends it (docs/security.md "Sessions", "Trusted browsers", R10d).
 * Each test here failed on the code before its fix.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

const NEW_PASSWORD = "a brand new password of mine";

/** Empties the email's login bucket (10 wrong passwords from elsewhere): the state in which a device link is emailed. */
async function keepOut(email: string): Promise<void> {
  const attacker = new Client();
  for (let i = 0; i < 10; i++) await expectProblem(await attacker.post("/api/auth/login", { email, password: `wrong guess ${i}` }), 401, "invalid_credentials");
}

function deviceCookieOf(res: Response): string | null {
  const set = res.headers.getSetCookie().find((c) => c.startsWith("__Host-device="));
  return parseSetCookie(set ?? null)?.value || null;
}

/**
 * A device link (docs/api.md `POST /api/auth/device-link`) emailed while the password was the old one: whoever
 * read that email holds a link that makes any browser a known device of the account. A new password makes every
 * browser new again (R10d), so a link from before it must not make one known to the new password.
 */
describe("an old device link after a new password (R12a)", () => {
  async function emailedDeviceLink(email: string): Promise<string> {
    await keepOut(email);
    // The owner's right password from a new browser while the bucket is empty: 429, and the link is emailed.
    await expectProblem(await new Client().post("/api/auth/login", { email, password: PASSWORD }), 429, "too_many_attempts");
    return mail.nextToken(email, "device");
  }

  it("a link emailed before a password change is refused after it, and sets no device cookie", async () => {
    const user = await newUser();
    // The owner's browser is a known device: its own bucket lets it change the password while the email's is empty.
    const home = new BrowserClient();
    expect((await home.post("/api/auth/login", { email: user.email, password: PASSWORD })).status).toBe(200);
    const link = await emailedDeviceLink(user.email);

    expect((await home.post("/api/security/password", { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204);

    const opened = await new Client().post("/api/auth/device-link", { token: link });
    await expectProblem(opened, 400, "invalid_token");
    expect(deviceCookieOf(opened)).toBeNull();
  });

  it("a link emailed before a password reset is refused after it, and sets no device cookie", async () => {
    const user = await newUser();
    const link = await emailedDeviceLink(user.email);
    const previous = mail.lastToken(user.email, "reset-password");
    expect((await new Client().post("/api/auth/password-reset", { email: user.email })).status).toBe(202);
    const reset = await mail.nextToken(user.email, "reset-password", previous);
    expect((await new Client().post("/api/auth/password-reset/confirm", { token: reset, password: NEW_PASSWORD })).status).toBe(204);

    const opened = await new Client().post("/api/auth/device-link", { token: link });
    await expectProblem(opened, 400, "invalid_token");
    expect(deviceCookieOf(opened)).toBeNull();
  });
});
