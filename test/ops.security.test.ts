import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BLANK_OPS_TOKEN_LOG } from "../src/ops/operator-auth";
import { expectProblem, problemOf } from "./support/client";
import { enableTOTP, newUser, type TestUser } from "./support/fixtures";
import { OPS_TOKEN, opsReset, opsResetWithoutSecret, opsResetWithSecret } from "./support/ops";
import { recoveryRow } from "./support/stores";

afterEach(() => {
  vi.useRealTimers();
});

describe("operator recovery: the token", () => {
  it("without the OPS_TOKEN secret the route does not exist: 404, even with a token", async () => {
    const user = await newUser();
    await expectProblem(await opsResetWithoutSecret(user.email), 404, "not_found");
    expect(await recoveryRow(user.id)).toBeNull();
  });

  it("no token, another scheme, or a wrong token of any length: 401 unauthenticated, nothing reset", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    await expectProblem(await opsReset(user.email, null, "198.51.100.1"), 401, "unauthenticated");
    await expectProblem(await opsReset(user.email, `${OPS_TOKEN}x`, "198.51.100.2"), 401, "unauthenticated");
    await expectProblem(await opsReset(user.email, OPS_TOKEN.slice(0, -1), "198.51.100.3"), 401, "unauthenticated");
    // The token before the body: a wrong token with a bad body is still 401.
    await expectProblem(await opsReset(42, "wrong", "198.51.100.4"), 401, "unauthenticated");
    expect(await recoveryRow(user.id)).toBeNull();
    expect((await user.client.json("GET", "/api/me")).status).toBe(200);
  });

  it("a flood of wrong tokens from many addresses does not keep the operator out: the right token from its own address still resets", async () => {
    // Time stands still, so no bucket refills while the flood lasts.
    vi.useFakeTimers({ toFake: ["Date"] });
    const user = await newUser();
    await enableTOTP(user.client);
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => opsReset(user.email, `guess-${i}`, `203.0.113.${i + 1}`)));
    expect(flood.every((r) => r.status === 401 || r.status === 429)).toBe(true);
    expect(await recoveryRow(user.id)).toBeNull();

    const operator = await opsReset(user.email, OPS_TOKEN, "192.0.2.50");
    expect(operator.status, await operator.clone().text()).toBe(200);
    expect((await recoveryRow(user.id))?.issued_by).toBe("operator");
    // Each stranger's one guess was compared and refused as wrong; no bucket anyone shares ran dry.
    expect(flood.map((r) => r.status)).toEqual(Array(30).fill(401));
  });

  it("one address is still slowed: 20 wrong tokens in parallel, at most 5 compared; then the right token from there waits, and from elsewhere it does not", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const user = await newUser();
    await enableTOTP(user.client);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => opsReset(user.email, `guess-${i}`, "198.51.100.66")));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await problemOf(limited)).code).toBe("too_many_attempts");
    expect(await recoveryRow(user.id)).toBeNull();

    // That address waits, the right token too; the bucket refills with time, not with retries.
    expect((await opsReset(user.email, OPS_TOKEN, "198.51.100.66")).status).toBe(429);
    expect(await recoveryRow(user.id)).toBeNull();
    // Another address is not that one's bucket.
    expect((await opsReset(user.email, OPS_TOKEN, "192.0.2.51")).status).toBe(200);
    vi.setSystemTime(Date.now() + 10 * 60_000);
    expect((await opsReset(user.email, OPS_TOKEN, "198.51.100.66")).status).toBe(200);
    expect((await recoveryRow(user.id))?.issued_by).toBe("operator");
  });
});

/**
 * The contract turns the route on whenever OPS_TOKEN is set, so a weak token
 * works too; it keeps the guess budget for all callers together that a
 * strong token goes without, and with it the price R11c removed: anyone's
 * wrong tokens can keep the operator out (src/ops/operator-token.ts; the
 * warning line is checked in test/logs.security.test.ts).
 */
describe("operator recovery with a weak OPS_TOKEN", () => {
  const WEAK = {
    "31 characters": "Zq8#rT2!vL9@kW4$mP7^nB3&xC6*yH1",
    "a key held down": "a".repeat(64),
    "a short pattern repeated": "abc1".repeat(12),
    // (A secret with whitespace inside is weak too, but no bearer token can carry it: docs/deploy.md.)
    "short inside padding": "   Zq8#rT2!vL9@kW4$                    ",
  };

  it("each still lets its own right token through (the route is on), and refuses a wrong one", async () => {
    let n = 70;
    for (const [why, secret] of Object.entries(WEAK)) {
      const past = await opsResetWithSecret("nobody@example.com", secret, secret.trim(), `192.0.2.${n++}`);
      expect(past.status, why).toBe(404);
      expect(await past.json(), why).toMatchObject({ code: "not_found", detail: "No account has this email" });
      await expectProblem(await opsResetWithSecret("nobody@example.com", secret, "wrong", `192.0.2.${n++}`), 401, "unauthenticated");
    }
  });

  it("its guesses are counted for all callers together: wrong tokens from many addresses then keep even the right one out; at 32 characters they do not", async () => {
    // Time stands still, so the shared bucket does not refill while the flood lasts.
    vi.useFakeTimers({ toFake: ["Date"] });
    const weak = WEAK["31 characters"];
    const strong = `${weak}%`;
    for (let i = 0; i < 12; i++) await opsResetWithSecret("nobody@example.com", weak, "wrong", `203.0.113.${100 + i}`);
    await expectProblem(await opsResetWithSecret("nobody@example.com", weak, weak, "203.0.113.200"), 429, "too_many_attempts");
    // One character more, the same flood behind it: the right token from its own address goes through.
    const past = await opsResetWithSecret("nobody@example.com", strong, strong, "203.0.113.201");
    expect(await past.json()).toMatchObject({ code: "not_found", detail: "No account has this email" });
  });

  it("32 characters is strong, and the secret is trimmed: a newline a shell pipe added does not keep the right token out", async () => {
    const exactly32 = "Zq8#rT2!vL9@kW4$mP7^nB3&xC6*yH1%";
    expect(exactly32).toHaveLength(32);
    await expectProblem(await opsResetWithSecret("nobody@example.com", exactly32, "wrong", "192.0.2.60"), 401, "unauthenticated");
    // Past the token: the 404 of an unknown email, not the route's.
    const past = await opsResetWithSecret("nobody@example.com", exactly32, exactly32, "192.0.2.61");
    expect(past.status).toBe(404);
    expect(await past.json()).toMatchObject({ code: "not_found", detail: "No account has this email" });

    const user = await newUser();
    await enableTOTP(user.client);
    expect((await opsResetWithSecret(user.email, `${OPS_TOKEN}\n`, OPS_TOKEN, "192.0.2.63")).status).toBe(200);
    expect((await recoveryRow(user.id))?.issued_by).toBe("operator");
  });

  it("an OPS_TOKEN of whitespace alone is no token: the route stays off (404), and a request with no token resets nobody", async () => {
    // Trimmed, such a secret is empty, and so is the bearer token of a request that sends none (or "Bearer "):
    // compared as they were, the two matched and anyone was the operator (docs/security.md R11r).
    const user = await newUser();
    await enableTOTP(user.client);
    const warn = vi.spyOn(console, "warn");
    let n = 80;
    for (const blank of ["\n", " ", "\t \r\n"]) {
      const res = await opsResetWithSecret(user.email, blank, "", `192.0.2.${n++}`);
      expect(res.status, JSON.stringify(blank)).toBe(404);
      expect(await res.json()).toMatchObject({ code: "not_found", detail: "No such endpoint" });
    }
    // The operator reads why, in a fixed line.
    expect(warn.mock.calls.filter(([line]) => String(line).startsWith(BLANK_OPS_TOKEN_LOG))).toHaveLength(3);
    warn.mockRestore();
    expect(await recoveryRow(user.id)).toBeNull();
    expect((await user.client.json("GET", "/api/me")).status).toBe(200);
  });
});

/**
 * Whoever gets the operator to reset an admin (by talking them into it, or
 * with a stolen OPS_TOKEN) can then act as that admin, as an admin who resets
 * a co-admin could: so the community's admins hear of it the same way
 * (docs/email.md, `admin_reset_notice`).
 */
describe("operator recovery: an admin's communities hear of it", () => {
  type Admin = TestUser & { communityId: string };
  const mailsTo = async (recipient: string) =>
    (
      await env.DB.prepare("SELECT user_id, template, subject, body FROM outbox WHERE recipient = ? ORDER BY created_at, rowid")
        .bind(recipient)
        .all<{ user_id: string; template: string; subject: string; body: string }>()
    ).results;
  const noticesTo = async (who: TestUser) => (await mailsTo(who.email)).filter((m) => m.template === "admin_reset_notice");
  const join = async (admin: Admin, who: TestUser, role: "admin" | "member") => {
    const invite = await admin.client.json("POST", `/api/communities/${admin.communityId}/invitations`, { email: who.email, role });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);
    expect((await who.client.json("POST", `/api/invitations/${invite.body.invitation.id}/accept`)).status).toBe(200);
  };
  const communityOf = async (name: string, acceptLanguage: string) =>
    (await newUser({ community: `${name} ${Math.random().toString(36).slice(2, 8)}`, name: `${name} owner`, acceptLanguage })) as Admin;

  it("resetting an admin of two communities emails every other admin of each, in their own language, naming the operator; members hear nothing", async () => {
    const north = await communityOf("North", "en");
    const south = await communityOf("South", "fr");
    const target = await newUser({ name: "Tia Target", acceptLanguage: "en" });
    const coAdmin = await newUser({ name: "Cy Co-admin", acceptLanguage: "fr" });
    const member = await newUser({ name: "Mo Member" });
    await join(north, target, "admin");
    await join(south, target, "admin");
    await join(south, coAdmin, "admin");
    await join(north, member, "member");
    await enableTOTP(target.client);

    expect((await opsReset(target.email)).status).toBe(200);

    // The reset admin gets the reset email, not a notice about themselves.
    expect((await mailsTo(target.email)).map((m) => m.template)).toContain("recovery_code_issued");
    expect(await noticesTo(target)).toEqual([]);
    expect(await noticesTo(member)).toEqual([]);

    const [toNorth, ...moreNorth] = await noticesTo(north);
    expect(moreNorth).toEqual([]);
    expect(toNorth?.user_id).toBe(north.id);
    expect(toNorth?.subject).toBe("An admin of your community had their two-factor authentication reset");
    expect(toNorth?.body).toContain("The operator of this service reset the two-factor authentication of an admin of a community you administer.");
    expect(toNorth?.body).toContain("\nReset by: the operator of this service\n");
    expect(toNorth?.body).toContain(`Community name, as its admins typed it: ${JSON.stringify((await communityName(north.communityId)) ?? "")}`);
    expect(toNorth?.body).toContain(`Admin whose two-factor authentication was reset, as they typed their name: ${JSON.stringify(target.name)}`);
    expect(toNorth?.body).toContain(target.email);
    // No person is named as the one who reset.
    expect(toNorth?.body).not.toContain("Admin who reset it");

    const southName = JSON.stringify((await communityName(south.communityId)) ?? "");
    for (const who of [south, coAdmin]) {
      const notices = await noticesTo(who);
      expect(notices, who.name).toHaveLength(1);
      expect(notices[0]?.subject).toBe("L’authentification à deux facteurs d’un admin de votre communauté a été réinitialisée");
      expect(notices[0]?.body).toContain("\nRéinitialisée par\u00a0: l’opérateur de ce service\n");
      expect(notices[0]?.body).toContain(`Communauté (nom tel que saisi par ses admins)\u00a0: ${southName}`);
      expect(notices[0]?.body).toContain(target.email);
    }
  });

  it("resetting a plain member emails no admin", async () => {
    const north = await communityOf("North", "en");
    const member = await newUser({ name: "Mo Member" });
    await join(north, member, "member");
    await enableTOTP(member.client);
    expect((await opsReset(member.email)).status).toBe(200);
    expect((await mailsTo(member.email)).map((m) => m.template)).toContain("recovery_code_issued");
    expect(await noticesTo(north)).toEqual([]);
  });
});

async function communityName(cid: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT name FROM communities WHERE id = ?").bind(cid).first<string>("name")) ?? null;
}
