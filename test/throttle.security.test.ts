import { env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { CLIENT_POLICY, EMAIL_POLICY } from "../src/guard/bucket";
import { Client, newUser, PASSWORD, uniqueEmail } from "./helpers";

/** A fresh client address for every call: the per-email bucket is what is under test. */
let n = 0;
function freshIP(): string {
  n += 1;
  return `203.0.${Math.floor(n / 250)}.${n % 250}`;
}

async function login(email: string, password: string, ip = freshIP()): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const res = await new Client(ip).request("POST", "/api/auth/login", { email, password });
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get("Retry-After") };
}

/** The Throttle object for a key, named as the service names it (hash computed here with noble). */
function throttle(key: string) {
  return env.THROTTLE.get(env.THROTTLE.idFromName(key));
}
const emailKey = (email: string) => `email:${bytesToHex(sha256(new TextEncoder().encode(email)))}`;

/** Moves a bucket's clock back by `ms`, as if that much time had passed, without sleeping. */
async function age(key: string, ms: number): Promise<void> {
  await runInDurableObject(throttle(key), async (_instance, state) => {
    const bucket = state.storage.kv.get<{ tokens: number; at: number }>("bucket");
    expect(bucket).toBeDefined();
    state.storage.kv.put("bucket", { ...bucket!, at: bucket!.at - ms });
  });
}

describe("password guessing is slowed per email, known or not", () => {
  it(`${EMAIL_POLICY.capacity} wrong passwords from as many clients, then 429 with Retry-After: same for a known and an unknown email`, async () => {
    const known = await newUser();
    const unknown = uniqueEmail("ghost");
    const answers: Record<string, Awaited<ReturnType<typeof login>>[]> = { known: [], unknown: [] };
    for (let i = 0; i <= EMAIL_POLICY.capacity; i++) {
      answers.known!.push(await login(known.email, `wrong password number ${i}`));
      answers.unknown!.push(await login(unknown, `wrong password number ${i}`));
    }
    for (const list of Object.values(answers)) {
      expect(list.slice(0, EMAIL_POLICY.capacity).map((a) => a.status)).toEqual(Array(EMAIL_POLICY.capacity).fill(401));
      const last = list[EMAIL_POLICY.capacity]!;
      expect(last.status).toBe(429);
      expect(JSON.parse(last.body).code).toBe("too_many_attempts");
      const retryAfter = Number(last.retryAfter);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(EMAIL_POLICY.refillMs / 1000);
    }
    // Byte-identical bodies: the answers tell nothing about which email exists.
    expect(answers.known![0]!.body).toBe(answers.unknown![0]!.body);
    expect(answers.known![EMAIL_POLICY.capacity]!.body).toBe(answers.unknown![EMAIL_POLICY.capacity]!.body);
    expect(
      Math.abs(Number(answers.known![EMAIL_POLICY.capacity]!.retryAfter) - Number(answers.unknown![EMAIL_POLICY.capacity]!.retryAfter)),
    ).toBeLessThanOrEqual(1);
  });

  it("once throttled, even the right password gets 429 (no oracle), and no session is made", async () => {
    const u = await newUser();
    for (let i = 0; i < EMAIL_POLICY.capacity; i++) await login(u.email, `wrong ${i} wrong wrong wrong`);
    const sessionsBefore = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    const right = await new Client(freshIP()).request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(right.status).toBe(429);
    expect(right.headers.get("Set-Cookie")).toBeNull();
    const sessionsAfter = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    expect(sessionsAfter?.n).toBe(sessionsBefore?.n);
  });

  it("the email is normalised before throttling: case and spaces do not buy new attempts", async () => {
    const email = uniqueEmail("norm");
    for (let i = 0; i < EMAIL_POLICY.capacity; i++) await login(i % 2 ? email.toUpperCase() : ` ${email} `, `wrong ${i} wrong wrong`);
    expect((await login(email, "another wrong one here")).status).toBe(429);
  });

  it("never locks: after the bucket refills the right password works, and one minute buys one attempt", async () => {
    const u = await newUser();
    for (let i = 0; i <= EMAIL_POLICY.capacity; i++) await login(u.email, `wrong ${i} wrong wrong`);
    expect((await login(u.email, PASSWORD)).status).toBe(429);
    await age(emailKey(u.email), EMAIL_POLICY.refillMs);
    // One token came back: a wrong guess spends it, the next is refused again.
    expect((await login(u.email, "still wrong still wrong")).status).toBe(401);
    expect((await login(u.email, PASSWORD)).status).toBe(429);
    await age(emailKey(u.email), EMAIL_POLICY.refillMs);
    expect((await login(u.email, PASSWORD)).status).toBe(200);
  });

  it("a correct password does not consume a token", async () => {
    const u = await newUser();
    for (let i = 0; i < EMAIL_POLICY.capacity + 5; i++) expect((await login(u.email, PASSWORD)).status).toBe(200);
    const wrong = [];
    for (let i = 0; i <= EMAIL_POLICY.capacity; i++) wrong.push((await login(u.email, `wrong ${i} wrong wrong`)).status);
    expect(wrong).toEqual([...Array(EMAIL_POLICY.capacity).fill(401), 429]);
  });
});

describe("password guessing is slowed per client", () => {
  it(`one client spraying ${CLIENT_POLICY.capacity} different emails is then refused; other clients are not`, async () => {
    const ip = "192.0.2.10";
    // Real time passes while the suite runs (one token per 3 s comes back), so
    // spray until refused and check the refusal came within what time allows.
    const started = Date.now();
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof login>> | null = null;
    while (statuses.length < CLIENT_POLICY.capacity + 30) {
      const answer = await login(uniqueEmail("spray"), "a wrong password, sprayed", ip);
      statuses.push(answer.status);
      if (answer.status === 429) {
        refused = answer;
        break;
      }
    }
    const allowed = CLIENT_POLICY.capacity + Math.ceil((Date.now() - started) / CLIENT_POLICY.refillMs);
    expect(statuses.slice(0, CLIENT_POLICY.capacity).every((s) => s === 401)).toBe(true);
    expect(refused).not.toBeNull();
    expect(statuses.length - 1).toBeLessThanOrEqual(allowed);
    expect(JSON.parse(refused!.body).code).toBe("too_many_attempts");
    expect(Number(refused!.retryAfter)).toBeGreaterThan(0);
    // Also for a real account with its right password: the attempt never ran.
    const u = await newUser();
    expect((await login(u.email, PASSWORD, ip)).status).toBe(429);
    // Another address is not affected, and the refused attempts spent no email token.
    expect((await login(u.email, PASSWORD, "192.0.2.11")).status).toBe(200);
    for (let i = 0; i < EMAIL_POLICY.capacity; i++) expect((await login(u.email, `wrong ${i} wrong wrong`)).status).toBe(401);
    // The client's bucket refills with time.
    // The client's bucket refills with time: the right password works from it again.
    // (A second account: the first one's email bucket was just emptied on purpose.)
    const v = await newUser();
    expect((await login(v.email, PASSWORD, ip)).status).toBe(429);
    await age(`client:${ip}`, CLIENT_POLICY.refillMs);
    expect((await login(v.email, PASSWORD, ip)).status).toBe(200);
  });
});
