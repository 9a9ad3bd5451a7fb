import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Client, withLanguage } from "./support/client";
import { totpCode } from "./support/codes";
import { enableTOTP, newUser, PASSWORD, reauth, type TestUser, uniqueEmail } from "./support/fixtures";
import { opsReset } from "./support/ops";
import { outboxOf } from "./support/stores";

/**
 * The language of every email (docs/email.md "Which language"), read from the
 * real outbox (D1 `outbox`, what the transport is handed): a request's
 * Accept-Language for the emails its own proven session causes; otherwise the
 * recipient's stored language (their last login's), and with none, the
 * language of the request that caused the email. Expected words are typed
 * here, not read from the catalogues.
 */

const FRENCH = "fr-CA,fr;q=0.9,en;q=0.5";
const ENGLISH = "en-GB,en;q=0.9";

async function mailsTo(recipient: string): Promise<{ template: string; subject: string; body: string }[]> {
  const { results } = await env.DB.prepare("SELECT template, subject, body FROM outbox WHERE recipient = ? ORDER BY created_at, rowid")
    .bind(recipient)
    .all<{ template: string; subject: string; body: string }>();
  return results;
}

async function storedLanguage(userId: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT lang FROM users WHERE id = ?").bind(userId).first<string | null>("lang")) ?? null;
}

/** An admin with 2FA on (only such an admin may reset), in a community, their browser in `acceptLanguage`. */
async function adminIn(acceptLanguage: string): Promise<TestUser & { communityId: string }> {
  const admin = (await newUser({ community: `Club ${Math.random().toString(36).slice(2, 8)}`, name: "Ada", acceptLanguage })) as TestUser & {
    communityId: string;
  };
  await enableTOTP(admin.client);
  return admin;
}

async function join(admin: TestUser & { communityId: string }, member: TestUser, role: "member" | "admin" = "member"): Promise<void> {
  const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: member.email, role });
  expect(invite.status).toBe(201);
  expect((await member.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
}

describe("an email sent during a request is in that request's language", () => {
  it("Accept-Language: fr gets the security email in French; no header gets English", async () => {
    const french = await newUser({ acceptLanguage: FRENCH });
    const plain = await newUser();
    await enableTOTP(french.client);
    await enableTOTP(plain.client);

    // Signup already emailed the verification link, in the signup request's language.
    const frMails = await outboxOf(french.id);
    expect(frMails.find((m) => m.template === "verify_email")?.subject).toBe("Confirmez votre adresse e-mail");
    const fr = frMails.find((m) => m.template === "two_factor_enabled");
    expect(fr?.subject).toBe("L’authentification à deux facteurs est activée");
    expect(fr?.body).toMatch(
      /^L’authentification à deux facteurs a été activée pour votre compte\.\n\nDate\u00a0: \S+ \d{1,2} \S+ \d{4} à \d\d:\d\d:\d\d UTC\nDepuis\u00a0: /,
    );
    expect(fr?.body).toContain("Si ce n’était pas vous, changez votre mot de passe");

    const enMails = await outboxOf(plain.id);
    expect(enMails.find((m) => m.template === "verify_email")?.subject).toBe("Confirm your email address");
    const en = enMails.find((m) => m.template === "two_factor_enabled");
    expect(en?.subject).toBe("Two-factor authentication is on");
    expect(en?.body).toMatch(
      /^Two-factor authentication was turned on for your account\.\n\nWhen: \w+, \w+ \d{1,2}, \d{4} at \d{1,2}:\d\d:\d\d\s?[AP]M UTC\nFrom: /,
    );
  });

  it("the user's own logged-in request speaks for them, whatever their last login used", async () => {
    const user = await newUser({ acceptLanguage: FRENCH });
    expect(await storedLanguage(user.id)).toBe("fr");
    await enableTOTP(user.client);
    await reauth(user.client);
    // The same session, now from a browser that asks for English.
    const english = withLanguage(user.client, ENGLISH);
    expect((await english.json("POST", "/api/security/backup-codes")).status).toBe(200);
    const regenerated = (await outboxOf(user.id)).find((m) => m.template === "backup_codes_regenerated");
    expect(regenerated?.subject).toBe("New backup codes were generated");
  });
});

describe("an email no request of its recipient caused is in the recipient's last known language", () => {
  it("a login stores its language once it is complete; a half login does not", async () => {
    const user = await newUser({ acceptLanguage: ENGLISH });
    expect(await storedLanguage(user.id)).toBe("en");
    const { secret } = await enableTOTP(user.client);
    const half = withLanguage(new Client(), FRENCH);
    expect((await half.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).body.status).toBe("second_factor_required");
    expect(await storedLanguage(user.id)).toBe("en");
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).status).toBe(200);
    expect(await storedLanguage(user.id)).toBe("fr");
  });

  it("an admin's reset: the member reads it in their language, each admin told reads the notice in theirs", async () => {
    const admin = await adminIn(FRENCH);
    const member = await newUser({ name: "Mo", acceptLanguage: ENGLISH });
    const coAdmin = await newUser({ name: "Cy", acceptLanguage: FRENCH });
    await join(admin, member, "admin");
    await join(admin, coAdmin, "admin");
    await enableTOTP(member.client);
    await reauth(admin.client);
    const reset = await admin.client.json("POST", `/api/communities/${admin.communityId}/members/${member.id}/reset-2fa`, { password: PASSWORD });
    expect(reset.status).toBe(200);

    // The admin's request asked for French; the member last logged in in English.
    const toMember = (await mailsTo(member.email)).find((m) => m.template === "recovery_code_issued");
    expect(toMember?.subject).toBe("Your two-factor authentication was reset");
    expect(toMember?.body).toContain(`\nAdmin, as they typed their name: "Ada"\n`);
    expect((await mailsTo(admin.email)).find((m) => m.template === "admin_reset_notice")?.subject).toBe(
      "L’authentification à deux facteurs d’un admin de votre communauté a été réinitialisée",
    );
    const toCoAdmin = (await mailsTo(coAdmin.email)).find((m) => m.template === "admin_reset_notice");
    expect(toCoAdmin?.subject).toBe("L’authentification à deux facteurs d’un admin de votre communauté a été réinitialisée");
    expect(toCoAdmin?.body).toContain(
      `\nAdmin dont l’authentification à deux facteurs a été réinitialisée (nom tel que saisi par cette personne)\u00a0: "Mo"\n`,
    );
  });

  it("with no stored language (an account from before languages were stored), the request's that caused it", async () => {
    const admin = await adminIn(FRENCH);
    const member = await newUser({ name: "Mo" });
    await join(admin, member);
    await enableTOTP(member.client);
    await env.DB.prepare("UPDATE users SET lang = NULL WHERE id = ?").bind(member.id).run();
    await reauth(admin.client);
    expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/members/${member.id}/reset-2fa`, { password: PASSWORD })).status).toBe(200);
    expect((await mailsTo(member.email)).find((m) => m.template === "recovery_code_issued")?.subject).toBe(
      "Votre authentification à deux facteurs a été réinitialisée",
    );
  });

  it("the operator's reset: the user reads it in their language, not the operator's script's", async () => {
    const user = await newUser({ acceptLanguage: FRENCH });
    await enableTOTP(user.client);
    // `npm run ops` sends no Accept-Language: its request alone would say English.
    expect((await opsReset(user.email)).status).toBe(200);
    expect((await mailsTo(user.email)).find((m) => m.template === "recovery_code_issued")?.subject).toBe(
      "Votre authentification à deux facteurs a été réinitialisée",
    );
  });

  it("a removal is in the member's language; leaving, the member's own request, in its own", async () => {
    const admin = await adminIn(FRENCH);
    const removed = await newUser({ acceptLanguage: ENGLISH });
    const leaving = await newUser({ acceptLanguage: ENGLISH });
    await join(admin, removed);
    await join(admin, leaving);
    expect((await admin.client.request("DELETE", `/api/communities/${admin.communityId}/members/${removed.id}`)).status).toBe(204);
    expect((await mailsTo(removed.email)).find((m) => m.template === "member_removed")?.subject).toBe("You were removed from a community");
    const leaver = withLanguage(leaving.client, FRENCH);
    expect((await leaver.request("DELETE", `/api/communities/${admin.communityId}/members/${leaving.id}`)).status).toBe(204);
    expect((await mailsTo(leaving.email)).find((m) => m.template === "member_left")?.subject).toBe("Vous avez quitté une communauté");
  });

  it("an invitation: to an address with no account, in the inviter's language; to an account, in its language", async () => {
    const admin = await adminIn(FRENCH);
    const stranger = uniqueEmail("stranger");
    const english = await newUser({ acceptLanguage: ENGLISH });
    for (const email of [stranger, english.email]) {
      expect((await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email, role: "member" })).status).toBe(201);
    }
    const [toStranger] = await mailsTo(stranger);
    expect(toStranger?.subject).toBe("Invitation à rejoindre une communauté");
    expect(toStranger?.body).toContain(`\nInvitation envoyée par (nom tel que saisi par cette personne)\u00a0: "Ada"\n`);
    expect(toStranger?.body).toMatch(/Elle expire le \S+ \d{1,2} \S+ \d{4} à \d\d:\d\d:\d\d UTC\./);
    // The account also has its own signup's verification link: the invitation is read by its template.
    const toAccount = (await mailsTo(english.email)).find((m) => m.template === "invitation");
    expect(toAccount?.subject).toBe("You are invited to join a community");
  });

  it("the lockout: whoever knows the password does not choose the language its owner reads", async () => {
    const owner = await newUser({ acceptLanguage: ENGLISH });
    await enableTOTP(owner.client);
    const guesser = withLanguage(new Client(), FRENCH);
    expect((await guesser.json("POST", "/api/auth/login", { email: owner.email, password: PASSWORD })).status).toBe(200);
    for (let i = 0; i < 10; i++) await guesser.json("POST", "/api/auth/verify", { method: "backup_code", code: `zzzzz-zzzz${i}` });
    const lock = (await outboxOf(owner.id)).find((m) => m.template === "locked_out");
    expect(lock?.subject).toBe("Two-factor login locked for 15 minutes");
    expect(lock?.body).toContain(`\nFrom: ${guesser.ip} (unknown browser)\n`);
  });
});
