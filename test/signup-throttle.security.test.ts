import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { Client, problemOf } from "./support/client";
import { newUser, PASSWORD, uniqueEmail } from "./support/fixtures";

/**
 * docs/api.md: signup is throttled per client address (IPv6 by /64) and per
 * email, 429 with Retry-After well before 300 signups from one address, other
 * addresses unaffected. Without it, signup was unlimited PBKDF2 work and an
 * unlimited enumeration oracle (409 email_taken). Login's per-client bucket
 * keys IPv6 by /64 too. Throttle objects that are full and idle for a day
 * delete their storage.
 */

const DAY_MS = 24 * 60 * 60_000;

function signup(ip: string, email = uniqueEmail("su")) {
  return new Client(ip).request("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Someone" });
}

async function expectThrottled(res: Response): Promise<number> {
  expect(res.status).toBe(429);
  expect((await problemOf(res)).code).toBe("too_many_attempts");
  const retryAfter = Number(res.headers.get("Retry-After"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  return retryAfter;
}

/** Signs up from `ips` in turn until refused; returns how many got through (at most `max` tries). */
async function signUpUntilRefused(ips: string[], max = 100): Promise<{ created: number; refused: Response | null }> {
  let created = 0;
  for (let i = 0; i < max; i++) {
    const res = await signup(ips[i % ips.length] as string);
    if (res.status === 429) return { created, refused: res };
    expect(res.status).toBe(201);
    created += 1;
  }
  return { created, refused: null };
}

describe("signup is throttled per client", () => {
  it("100 signups from one address: 429 with Retry-After after a few dozen at most; another address is not affected", async () => {
    const ip = "198.51.100.7";
    const { created, refused } = await signUpUntilRefused([ip]);
    expect(refused).not.toBeNull();
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(50);
    await expectThrottled(refused as Response);
    // Still refused: the attempts never ran (no account made).
    const email = uniqueEmail("late");
    await expectThrottled(await signup(ip, email));
    expect(await env.DB.prepare("SELECT 1 FROM users WHERE email = ?").bind(email).first()).toBeNull();
    expect((await signup("198.51.100.8")).status).toBe(201);
  });

  it("every address of one IPv6 /64 shares one bucket, however it is spelled; the next /64 does not", async () => {
    const ips = Array.from({ length: 40 }, (_, i) => (i % 2 ? `2001:db8:7:1::${(i + 1).toString(16)}` : `2001:0DB8:0007:0001:${i}:0:0:1`));
    const { created, refused } = await signUpUntilRefused(ips);
    expect(refused).not.toBeNull();
    expect(created).toBeLessThan(50);
    await expectThrottled(await signup("2001:db8:7:1:ffff:ffff:ffff:fffe"));
    expect((await signup("2001:db8:7:2::1")).status).toBe(201);
  });
});

describe("signup is throttled per email", () => {
  it("the same email again and again from many addresses: 201, then 409s, then 429 (the 409 oracle is bounded)", async () => {
    const email = uniqueEmail("again");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await signup(`203.0.113.${i + 1}`, email)).status);
    expect(statuses[0]).toBe(201);
    const firstRefusal = statuses.indexOf(429);
    expect(firstRefusal).toBeGreaterThan(1);
    expect(firstRefusal).toBeLessThanOrEqual(10);
    expect(statuses.slice(1, firstRefusal).every((s) => s === 409)).toBe(true);
    expect(statuses.slice(firstRefusal).every((s) => s === 429)).toBe(true);
  });
});

describe("login's per-client bucket keys IPv6 by /64", () => {
  it("failed logins spread over one /64 exhaust one bucket: another address in it gets 429, the next /64 does not", async () => {
    const started = Date.now();
    let refusedAt = -1;
    for (let i = 0; i < 140 && refusedAt === -1; i++) {
      const res = await new Client(`2001:db8:8:1::${(i + 1).toString(16)}`).request("POST", "/api/auth/login", {
        email: uniqueEmail("spray"),
        password: "a wrong password, sprayed",
      });
      if (res.status === 429) refusedAt = i;
      else expect(res.status).toBe(401);
    }
    // The client bucket holds 100, plus one per 3 s of real time that passed.
    expect(refusedAt).toBeGreaterThanOrEqual(100);
    expect(refusedAt).toBeLessThanOrEqual(100 + Math.ceil((Date.now() - started) / 3000));
    const u = await newUser();
    expect((await new Client("2001:db8:8:1:abcd::9").request("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(429);
    expect((await new Client("2001:db8:8:2::1").request("POST", "/api/auth/login", { email: u.email, password: PASSWORD })).status).toBe(200);
  });
});

describe("throttle objects clean up after themselves", () => {
  const throttle = (key: string) => env.THROTTLE.get(env.THROTTLE.idFromName(key));
  const emailKey = (email: string) => `email:${bytesToHex(sha256(new TextEncoder().encode(email)))}`;

  /** Moves every time a throttle stored `ms` into the past, as if that much time had passed. */
  async function age(key: string, ms: number): Promise<void> {
    await runInDurableObject(throttle(key), async (_instance, state) => {
      const kv = state.storage.kv;
      const bucket = kv.get<{ tokens: number; at: number }>("bucket");
      if (bucket) kv.put("bucket", { ...bucket, at: bucket.at - ms });
      const times = kv.get<number[]>("window");
      if (times)
        kv.put(
          "window",
          times.map((t) => t - ms),
        );
      const touched = kv.get<number>("touched");
      if (touched !== undefined) kv.put("touched", touched - ms);
    });
  }

  const stored = (key: string) =>
    runInDurableObject(throttle(key), async (_instance, state) => ({ keys: [...state.storage.kv.list()].length, alarm: await state.storage.getAlarm() }));

  it("a login bucket keeps its state while it matters, and deletes it once full and idle for a day (alarm)", async () => {
    const email = uniqueEmail("cleanup");
    for (let i = 0; i < 3; i++) await new Client().request("POST", "/api/auth/login", { email, password: "wrong wrong wrong wrong" });
    const key = emailKey(email);
    // Not full yet: the alarm runs, keeps the bucket and waits.
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    expect((await stored(key)).keys).toBeGreaterThan(0);
    expect((await stored(key)).alarm).not.toBeNull();
    // Refilled (3 minutes) but idle only 23 hours: kept.
    await age(key, 3 * 60_000 + 23 * 60 * 60_000);
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    expect((await stored(key)).keys).toBeGreaterThan(0);
    // Full and idle for a day: gone, alarm included.
    await age(key, 60 * 60_000 + 1000);
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    expect(await stored(key)).toEqual({ keys: 0, alarm: null });
    // A later attempt starts a fresh, full bucket.
    expect((await new Client().request("POST", "/api/auth/login", { email, password: "wrong wrong wrong wrong" })).status).toBe(401);
  });

  it("a busy bucket keeps the one alarm it was given: later takes and refunds do not write it again", async () => {
    const user = await newUser();
    const login = (password: string) => new Client().request("POST", "/api/auth/login", { email: user.email, password });
    // A browser without the account's device cookie: the email's own bucket.
    expect((await login("wrong wrong wrong wrong")).status).toBe(401);
    const key = emailKey(user.email);
    const first = await stored(key);
    expect(first.alarm).not.toBeNull();
    // Each of these moves the state's quiet time later (touched is newer; a failure also leaves the bucket emptier);
    // the right password takes a token and refunds it.
    for (const password of ["wrong wrong wrong wrong", PASSWORD, "wrong wrong wrong wrong"]) {
      await new Promise((r) => setTimeout(r, 5));
      await login(password);
    }
    expect((await stored(key)).alarm).toBe(first.alarm);
    // Ringing before the state is quiet, the alarm keeps the state and sets the next one, a day after the new quiet time.
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    const after = await stored(key);
    expect(after.keys).toBeGreaterThan(0);
    expect(after.alarm).toBeGreaterThan(first.alarm as number);
  });

  it("a window (invitations) is deleted once its events left it and a day passed", async () => {
    const admin = await newUser({ community: "Cleanup" });
    expect((await admin.client.request("POST", `/api/communities/${admin.communityId}/invitations`, { email: uniqueEmail(), role: "member" })).status).toBe(
      201,
    );
    const key = `invitations-admin:${admin.id}`;
    await age(key, 60 * 60_000 + DAY_MS - 60_000);
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    expect((await stored(key)).keys).toBeGreaterThan(0);
    await age(key, 2 * 60_000);
    expect(await runDurableObjectAlarm(throttle(key))).toBe(true);
    expect(await stored(key)).toEqual({ keys: 0, alarm: null });
  });
});

describe("a request its client bucket refuses keeps no throttle object (docs/security.md R11w)", () => {
  const throttle = (key: string) => env.THROTTLE.get(env.THROTTLE.idFromName(key));
  const hex = (email: string) => bytesToHex(sha256(new TextEncoder().encode(email)));
  const stored = (key: string) =>
    runInDurableObject(throttle(key), async (_instance, state) => ({ keys: [...state.storage.kv.list()].length, alarm: await state.storage.getAlarm() }));

  /** Empties a client bucket as that many requests from the address would (src/auth/limits.ts): the state a Throttle keeps. */
  async function emptyClientBucket(key: string, policy: { capacity: number; refillMs: number }): Promise<void> {
    await runInDurableObject(throttle(key), async (_instance, state) => {
      state.storage.kv.put("bucket", { tokens: 0, at: Date.now() });
      state.storage.kv.put("policy", policy);
      state.storage.kv.put("touched", Date.now());
    });
  }

  // Every refused request named a bucket of its own, an email made up for it: had each left its object stored (and an
  // alarm a day away), one address whose bucket is empty, which costs it no password hash, would make as many objects
  // as it sent requests. The per-email bucket is taken in parallel with the client's and given back to full.
  it("logins, signups and reset requests with made-up emails from an address whose bucket is empty: 429, and no object of theirs stays", async () => {
    const ip = "198.51.100.201";
    await emptyClientBucket(`client:${ip}`, { capacity: 100, refillMs: 3_000 });
    await emptyClientBucket(`signup-client:${ip}`, { capacity: 40, refillMs: 90_000 });
    await emptyClientBucket(`reset-client:${ip}`, { capacity: 20, refillMs: 60_000 });
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const email = uniqueEmail(`madeup${i}`);
      const client = new Client(ip);
      expect((await client.request("POST", "/api/auth/login", { email, password: "a wrong password, sprayed" })).status).toBe(429);
      expect((await client.request("POST", "/api/auth/signup", { email, password: PASSWORD, name: "Someone" })).status).toBe(429);
      expect((await client.request("POST", "/api/auth/password-reset", { email })).status).toBe(429);
      keys.push(`email:${hex(email)}`, `signup-email:${hex(email)}`, `reset-email:${hex(email)}`);
    }
    for (const key of keys) expect({ key, ...(await stored(key)) }).toEqual({ key, keys: 0, alarm: null });
  });

  it("a right password gives the email's token back: its bucket is full again and nothing of it is kept; a wrong one is kept", async () => {
    const user = await newUser();
    expect((await new Client().request("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).status).toBe(200);
    expect(await stored(`email:${hex(user.email)}`)).toEqual({ keys: 0, alarm: null });
    expect((await new Client().request("POST", "/api/auth/login", { email: user.email, password: "wrong wrong wrong wrong" })).status).toBe(401);
    expect((await stored(`email:${hex(user.email)}`)).keys).toBeGreaterThan(0);
  });
});
