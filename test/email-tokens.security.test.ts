import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, expectProblem } from "./support/client";
import { newUser, PASSWORD, uniqueEmail } from "./support/fixtures";
import { Mailbox } from "./support/mailbox";
import { callerAt, eventTypesOf, guard, guardRows, outboxOf, tokenHash, worldSnapshot } from "./support/stores";

/**
 * Every single-use email token, attacked: used twice (20 at once), expired at
 * exactly its end, another user's, malformed. Each refusal is 400
 * invalid_token and changes nothing.
 */

const mail = new Mailbox();
beforeAll(() => mail.open());
afterAll(() => mail.close());

async function signUp(): Promise<{ id: string; email: string; client: Client }> {
  const client = new Client();
  const email = uniqueEmail("verify");
  const res = await client.json("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Vera" });
  expect(res.status).toBe(201);
  return { id: res.body.user.id, email, client };
}

function secretOf(token: string): string {
  return token.slice(token.indexOf(".") + 1);
}

describe("verification link", () => {
  it("signup emails a link to /verify-email whose token opens once, in any browser, and /api/me says so", async () => {
    const user = await signUp();
    const token = mail.lastToken(user.email, "verify-email");
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(token!.startsWith(`${user.id}.`)).toBe(true);
    // D1's copy of the email has the link without its token.
    const [row] = await outboxOf(user.id);
    expect(row!.template).toBe("verify_email");
    expect(row!.body).not.toContain(secretOf(token!));
    expect(row!.body).toContain("/verify-email#token=[link removed from this copy]");

    await user.client.post("/api/auth/login", { email: user.email, password: PASSWORD });
    expect((await user.client.json("GET", "/api/me")).body.user.emailVerified).toBe(false);
    const other = new Client();
    const res = await other.json("POST", "/api/auth/verify-email", { token });
    expect(res).toMatchObject({ status: 200, body: { emailVerified: true } });
    expect((await user.client.json("GET", "/api/me")).body.user.emailVerified).toBe(true);
    expect(await eventTypesOf(user.id)).toContain("email_verified");
    await expectProblem(await other.post("/api/auth/verify-email", { token }), 400, "invalid_token");
  });

  it("of 20 parallel uses of one token exactly one succeeds; the others are 400 invalid_token", async () => {
    const user = await signUp();
    const token = mail.lastToken(user.email, "verify-email");
    const answers = await Promise.all(Array.from({ length: 20 }, () => new Client().request("POST", "/api/auth/verify-email", { token })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of answers.filter((x) => x.status !== 200)) await expectProblem(r, 400, "invalid_token");
    expect(await eventTypesOf(user.id)).toEqual(["signed_up", "email_verified"]);
  });

  it("expires at exactly its end: the guard refuses it at expires_at and accepts it a millisecond before", async () => {
    const user = await signUp();
    const token = mail.lastToken(user.email, "verify-email")!;
    const hash = tokenHash(secretOf(token));
    const [row] = await guardRows<{ expires_at: number; created_at: number }>(
      user.id,
      "SELECT created_at, expires_at FROM tokens WHERE purpose = 'verify_email'",
    );
    expect(row!.expires_at - row!.created_at).toBe(24 * 60 * 60 * 1000);
    const who = { id: user.id, email: user.email, name: "Vera" };
    expect(await guard(user.id).claimToken(callerAt(who, row!.expires_at), "verify_email", hash)).toBe(false);
    expect((await guardRows(user.id, "SELECT * FROM tokens")).length).toBe(1);
    expect(await guard(user.id).emailVerified()).toBe(false);
    expect(await guard(user.id).claimToken(callerAt(who, row!.expires_at - 1), "verify_email", hash)).toBe(true);
    expect(await guard(user.id).emailVerified()).toBe(true);
  });

  it("an expired link answers 400 invalid_token through the API and changes nothing", async () => {
    const user = await signUp();
    const token = mail.lastToken(user.email, "verify-email")!;
    await guardRows(user.id, "UPDATE tokens SET expires_at = ? RETURNING purpose", Date.now() - 1);
    const before = await worldSnapshot();
    await expectProblem(await new Client().post("/api/auth/verify-email", { token }), 400, "invalid_token");
    expect(await worldSnapshot()).toEqual(before);
  });

  it("another user's id with a real secret, or a secret sent under a second account, is refused and changes nothing", async () => {
    const a = await signUp();
    const b = await signUp();
    const secret = secretOf(mail.lastToken(a.email, "verify-email")!);
    const before = await worldSnapshot();
    await expectProblem(await new Client().post("/api/auth/verify-email", { token: `${b.id}.${secret}` }), 400, "invalid_token");
    expect(await worldSnapshot()).toEqual(before);
    expect(await guard(b.id).emailVerified()).toBe(false);
  });

  it("malformed tokens are 400 invalid_token and change nothing", async () => {
    const user = await signUp();
    const token = mail.lastToken(user.email, "verify-email")!;
    const before = await worldSnapshot();
    const bad = [
      "x",
      token.replace(".", ""),
      `${token}A`,
      token.slice(0, -1),
      `../${token}`,
      `${"A".repeat(22)}.${"B".repeat(43)}`,
      `${user.id}.${"=".repeat(43)}`,
      `${user.id}.${secretOf(token).toUpperCase()}`,
    ];
    for (const t of bad) await expectProblem(await new Client().post("/api/auth/verify-email", { token: t }), 400, "invalid_token");
    await expectProblem(await new Client().post("/api/auth/verify-email", { token: "" }), 400, "invalid_request");
    expect(await worldSnapshot()).toEqual(before);
  });

  it("resend replaces the link (the old one stops working), is for full sessions, and is throttled", async () => {
    const user = await newUser({ verified: false });
    const first = mail.lastToken(user.email, "verify-email")!;
    expect((await user.client.post("/api/auth/verify-email/resend")).status).toBe(204);
    const second = mail.lastToken(user.email, "verify-email")!;
    expect(second).not.toBe(first);
    await expectProblem(await new Client().post("/api/auth/verify-email", { token: first }), 400, "invalid_token");
    expect((await user.client.post("/api/auth/verify-email/resend")).status).toBe(204);
    expect((await user.client.post("/api/auth/verify-email/resend")).status).toBe(204);
    const limited = await user.client.post("/api/auth/verify-email/resend");
    await expectProblem(limited, 429, "too_many_attempts");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    await expectProblem(await new Client().post("/api/auth/verify-email/resend"), 401, "unauthenticated");
  });

  it("one client address cannot multiply resends by holding many accounts: its own bucket refuses them, another address is unaffected", async () => {
    // Each account's bucket bounds what one inbox receives; an address that signs up many
    // accounts (one per victim's email) would otherwise send three links per account at once.
    const ip = "198.51.100.91";
    const accounts: Client[] = [];
    for (let i = 0; i < 7; i++) {
      const client = new Client(ip);
      const email = uniqueEmail("bomb");
      expect((await client.request("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Bob" })).status).toBe(201);
      expect((await client.request("POST", "/api/auth/login", { email, password: PASSWORD })).status).toBe(200);
      accounts.push(client);
    }
    const answers: Response[] = [];
    for (const client of accounts) for (let i = 0; i < 3; i++) answers.push(await client.post("/api/auth/verify-email/resend"));
    // 20 from one address; the 21st is that account's third, so only the address's bucket can refuse it.
    expect(answers.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(204));
    const limited = answers[20]!;
    await expectProblem(limited, 429, "too_many_attempts");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Another address's account still gets its link.
    const other = await newUser({ verified: false });
    expect((await other.client.post("/api/auth/verify-email/resend")).status).toBe(204);
  });
});
