import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Client } from "./support/client";
import { newUser, PASSWORD, uniqueEmail } from "./support/fixtures";

/**
 * The password throttle's documented numbers (docs/security.md G1,
 * docs/architecture.md), pinned here rather than read from src/: per email,
 * known or not, 10 wrong passwords at once and then one a minute; per client
 * address, 100 and then one every 3 seconds. Never a lock.
 *
 * Time is moved, never waited for: the Worker stamps each attempt with
 * `Date.now()` and the Throttle objects count with that stamp, and in the
 * workers pool the Worker and its Durable Objects share this test's isolate,
 * so the clock is frozen with fake timers (only `Date`) and moved with
 * `vi.setSystemTime`.
 */
const PER_EMAIL = { attempts: 10, refillMs: 60_000 };
const PER_CLIENT = { attempts: 100, refillMs: 3_000 };

let start = 0;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  start = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
});

/** As if `ms` had passed since the test began. */
const at = (ms: number) => vi.setSystemTime(start + ms);

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

describe("password guessing is slowed per email, known or not", () => {
  it(`${PER_EMAIL.attempts} wrong passwords from as many clients, then 429 with Retry-After: same for a known and an unknown email`, async () => {
    const known = await newUser();
    const unknown = uniqueEmail("ghost");
    const answers: Record<string, Awaited<ReturnType<typeof login>>[]> = { known: [], unknown: [] };
    for (let i = 0; i <= PER_EMAIL.attempts; i++) {
      answers.known!.push(await login(known.email, `wrong password number ${i}`));
      answers.unknown!.push(await login(unknown, `wrong password number ${i}`));
    }
    for (const list of Object.values(answers)) {
      expect(list.slice(0, PER_EMAIL.attempts).map((a) => a.status)).toEqual(Array(PER_EMAIL.attempts).fill(401));
      const last = list[PER_EMAIL.attempts]!;
      expect(last.status).toBe(429);
      expect(JSON.parse(last.body).code).toBe("too_many_attempts");
      // No time has passed: the next attempt is a whole minute away.
      expect(last.retryAfter).toBe("60");
    }
    // Byte-identical bodies: the answers tell nothing about which email exists.
    expect(answers.known![0]!.body).toBe(answers.unknown![0]!.body);
    expect(answers.known![PER_EMAIL.attempts]!.body).toBe(answers.unknown![PER_EMAIL.attempts]!.body);
  });

  it("once throttled, even the right password gets 429 (no oracle), and no session is made", async () => {
    const u = await newUser();
    for (let i = 0; i < PER_EMAIL.attempts; i++) await login(u.email, `wrong ${i} wrong wrong wrong`);
    const sessionsBefore = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    const right = await new Client(freshIP()).request("POST", "/api/auth/login", { email: u.email, password: PASSWORD });
    expect(right.status).toBe(429);
    expect(right.headers.get("Set-Cookie")).toBeNull();
    const sessionsAfter = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(u.id).first<{ n: number }>();
    expect(sessionsAfter?.n).toBe(sessionsBefore?.n);
  });

  it("the email is normalised before throttling: case and spaces do not buy new attempts", async () => {
    const email = uniqueEmail("norm");
    for (let i = 0; i < PER_EMAIL.attempts; i++) await login(i % 2 ? email.toUpperCase() : ` ${email} `, `wrong ${i} wrong wrong`);
    expect((await login(email, "another wrong one here")).status).toBe(429);
  });

  it("never locks: one minute buys one attempt, not a moment sooner, and then the right password works", async () => {
    const u = await newUser();
    for (let i = 0; i <= PER_EMAIL.attempts; i++) await login(u.email, `wrong ${i} wrong wrong`);
    expect((await login(u.email, PASSWORD)).status).toBe(429);
    at(PER_EMAIL.refillMs - 1);
    const early = await login(u.email, PASSWORD);
    expect(early.status).toBe(429);
    expect(early.retryAfter).toBe("1");
    at(PER_EMAIL.refillMs);
    // One token came back: a wrong guess spends it, the next is refused again.
    expect((await login(u.email, "still wrong still wrong")).status).toBe(401);
    expect((await login(u.email, PASSWORD)).status).toBe(429);
    at(2 * PER_EMAIL.refillMs);
    expect((await login(u.email, PASSWORD)).status).toBe(200);
  });

  it("a correct password does not consume a token", async () => {
    const u = await newUser();
    for (let i = 0; i < PER_EMAIL.attempts + 5; i++) expect((await login(u.email, PASSWORD)).status).toBe(200);
    const wrong = [];
    for (let i = 0; i <= PER_EMAIL.attempts; i++) wrong.push((await login(u.email, `wrong ${i} wrong wrong`)).status);
    expect(wrong).toEqual([...Array(PER_EMAIL.attempts).fill(401), 429]);
  });
});

describe("password guessing is slowed per client", () => {
  it(`one client spraying ${PER_CLIENT.attempts} different emails is then refused; other clients are not`, async () => {
    const ip = "192.0.2.10";
    const statuses: number[] = [];
    for (let i = 0; i < PER_CLIENT.attempts; i++) statuses.push((await login(uniqueEmail("spray"), "a wrong password, sprayed", ip)).status);
    expect(statuses).toEqual(Array(PER_CLIENT.attempts).fill(401));
    const refused = await login(uniqueEmail("spray"), "a wrong password, sprayed", ip);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).code).toBe("too_many_attempts");
    expect(refused.retryAfter).toBe("3");
    // Also for a real account with its right password: the attempt never ran.
    const u = await newUser();
    expect((await login(u.email, PASSWORD, ip)).status).toBe(429);
    // Another address is not affected, and the refused attempts spent no email token.
    expect((await login(u.email, PASSWORD, "192.0.2.11")).status).toBe(200);
    for (let i = 0; i < PER_EMAIL.attempts; i++) expect((await login(u.email, `wrong ${i} wrong wrong`)).status).toBe(401);
    // The client's bucket refills one attempt every 3 s, not a moment sooner: the right password
    // works from it again. (A second account: the first one's email bucket was just emptied on purpose.)
    const v = await newUser();
    at(PER_CLIENT.refillMs - 1);
    expect((await login(v.email, PASSWORD, ip)).status).toBe(429);
    at(PER_CLIENT.refillMs);
    expect((await login(v.email, PASSWORD, ip)).status).toBe(200);
  });
});
