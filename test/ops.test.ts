import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectProblem } from "./support/client";
import { addAuthenticatorApp, enableTOTP, newUser, recoveryClient, verify } from "./support/fixtures";
import { opsReset } from "./support/ops";
import { outboxOf, recoveryRow } from "./support/stores";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("POST /api/ops/reset-2fa", () => {
  it("issues a recovery code through the admin-reset path: actor operator, methods gone, sessions ended, the user emailed", async () => {
    // A user with 2FA and no community: no admin could help them.
    const user = await newUser();
    await enableTOTP(user.client);
    const before = Date.now();
    const res = await opsReset(`  ${user.email.toUpperCase()} `);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { recoveryCode: string; expiresAt: string };
    expect(body.recoveryCode).toMatch(/^[a-z0-9]{4}(-[a-z0-9]{4}){3}$/i);
    const expires = Date.parse(body.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + DAY_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + DAY_MS);

    // The guard holds the code as it holds an admin's, issued by the operator.
    const row = await recoveryRow(user.id);
    expect(row?.issued_by).toBe("operator");
    expect(row?.expires_at).toBe(expires);
    const event = await env.DB.prepare("SELECT actor_id FROM events WHERE user_id = ? AND type = 'recovery_code_issued'").bind(user.id).first();
    expect(event).toEqual({ actor_id: "operator" });
    // No account named "operator" gets a log entry.
    expect(await env.DB.prepare("SELECT count(*) AS n FROM events WHERE user_id = 'operator'").first()).toEqual({ n: 0 });

    // Every session ended; the methods are gone.
    expect((await user.client.json("GET", "/api/me")).status).toBe(401);
    expect(await env.DB.prepare("SELECT two_factor_enabled FROM users WHERE id = ?").bind(user.id).first()).toEqual({ two_factor_enabled: 0 });

    await expect.poll(async () => (await outboxOf(user.id)).filter((m) => m.template === "recovery_code_issued").length, { timeout: 3000 }).toBe(1);
    const mail = (await outboxOf(user.id)).find((m) => m.template === "recovery_code_issued")!;
    expect(mail.subject).toBe("Your two-factor authentication was reset");
    expect(mail.body).toContain("operator of this service");
    expect(mail.body).not.toContain(body.recoveryCode);

    // The way back: password, the code, a new method.
    const client = await recoveryClient(user);
    expect((await verify(client, "recovery_code", body.recoveryCode)).body).toEqual({ status: "enrollment_required" });
    const app = await addAuthenticatorApp(client, { reauth: false });
    expect(app.backupCodes).toHaveLength(10);
  });

  it("an unknown email: 404 not_found; a malformed one: 400 invalid_request", async () => {
    await expectProblem(await opsReset("nobody-here@example.com"), 404, "not_found");
    await expectProblem(await opsReset("not an email"), 400, "invalid_request");
  });
});
