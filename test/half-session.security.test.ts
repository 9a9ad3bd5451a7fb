import { env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { halfTokenOwner, mintHalfToken } from "../src/auth/half-token";
import { toBase64URL } from "../src/lib/encoding";
import { newId, randomBytes } from "../src/lib/random";
import { Client, problemOf } from "./support/client";
import { totpCode } from "./support/codes";
import { enableTOTP, newUser, PASSWORD, secondStepClient } from "./support/fixtures";
import { everythingStored, guardCounters, guardRows, guardSnapshot, sessionRow, statementsDuring, tokenHash } from "./support/stores";

/**
 * The second step asks the user's guard for the half session instead of
 * reading it from D1 (docs/architecture.md "The half session lives in the
 * guard"). The attacks: a made-up token that would send the Worker to any
 * guard it names, a token of ours the guard does not know, a logged-out half
 * session, and what the guard keeps of the token.
 */

const KEY_ID = env.ENCRYPTION_KEYS.split(",")[0]!.split(":")[0]!;

/** A second step sent with `cookie` as the session cookie. */
async function verifyWith(cookie: string, body: Record<string, unknown>) {
  const client = new Client();
  client.cookie = cookie;
  return client.request("POST", "/api/auth/verify", body);
}

describe("the second step reads its half session from the guard", () => {
  it("a right code completes the login with no session read from D1: one write moves the session", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    const statements = await statementsDuring(async () => {
      expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).body).toEqual({ status: "authenticated" });
    });
    expect(statements.filter((q) => /FROM sessions/i.test(q))).toEqual([]);
    expect(statements.filter((q) => /UPDATE sessions/i.test(q))).toHaveLength(1);
    expect((await sessionRow(half))?.stage).toBe("authenticated");
  });

  it("the guard keeps the session's id (the token's SHA-256), never the token", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    const token = half.cookie!;
    const halves = (await guardSnapshot(user.id)).half_sessions as { id: string; stage: string }[];
    expect(halves.map((h) => [h.id, h.stage])).toEqual([[tokenHash(token), "second_factor"]]);
    expect(await everythingStored(user.id)).not.toContain(token);
    expect(await everythingStored(user.id)).not.toContain(token.split(".")[2]);
  });
});

describe("a half session token the Worker did not mint reaches no guard", () => {
  it("a real user's id with a made-up MAC: 401, and the user's guard counts nothing", async () => {
    const user = await newUser();
    const { secret } = await enableTOTP(user.client);
    const forged = `${KEY_ID}.${user.id}.${toBase64URL(randomBytes(16))}.${toBase64URL(randomBytes(32))}`;
    expect(await halfTokenOwner(env, forged)).toBeNull();
    const before = await guardCounters(user.id);
    for (let i = 0; i < 6; i++) {
      const res = await verifyWith(forged, { method: "totp", code: "000000" });
      expect(res.status).toBe(401);
      expect((await problemOf(res)).code).toBe("unauthenticated");
    }
    expect(await guardCounters(user.id)).toEqual(before);
    // The user is not locked out: their own login still passes.
    const half = await secondStepClient(user.email);
    expect((await half.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(secret) })).status).toBe(200);
  });

  it("a made-up user id creates no guard", async () => {
    const before = (await listDurableObjectIds(env.USER_GUARD)).length;
    const nobody = newId();
    const forged = `${KEY_ID}.${nobody}.${toBase64URL(randomBytes(16))}.${toBase64URL(randomBytes(32))}`;
    const res = await verifyWith(forged, { method: "backup_code", code: "00000-00000" });
    expect(res.status).toBe(401);
    expect((await listDurableObjectIds(env.USER_GUARD)).length).toBe(before);
  });

  it("a token of ours for a session the guard never opened: 401, nothing counted", async () => {
    const user = await newUser();
    await enableTOTP(user.client);
    const { token } = await mintHalfToken(env, user.id);
    const before = await guardCounters(user.id);
    const res = await verifyWith(token, { method: "totp", code: "000000" });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
    expect(await guardCounters(user.id)).toEqual(before);
  });
});

/**
 * A user with 2FA on reaches the second step, `end` ends that half session, and its backup code is then sent with
 * it: refused as no session (401), nothing counted, and the same code still logs in from a new half session.
 */
async function endedHalfSessionSpendsNothing(end: (user: { id: string }, half: Client) => Promise<void>): Promise<void> {
  const user = await newUser();
  const { backupCodes } = await enableTOTP(user.client);
  const half = await secondStepClient(user.email);
  const token = half.cookie!;
  await end(user, half);

  const res = await verifyWith(token, { method: "backup_code", code: backupCodes[0] });
  expect(res.status).toBe(401);
  expect((await problemOf(res)).code).toBe("unauthenticated");
  expect((await guardCounters(user.id)).failures).toBe(0);

  const again = await secondStepClient(user.email);
  expect((await again.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).body).toEqual({ status: "authenticated" });
}

describe("a logged-out half session", () => {
  it("its second step is refused and spends nothing: the backup code still works for the next login", async () => {
    await endedHalfSessionSpendsNothing(async (user, half) => {
      expect((await half.request("POST", "/api/auth/logout")).status).toBe(204);
      expect((await guardSnapshot(user.id)).half_sessions).toEqual([]);
    });
  });
});

describe("a half session past its 10 minutes", () => {
  /**
   * The guard's own deadline is what refuses it before a code is spent: the D1 write that would complete the
   * login comes after the guard's step, and refusing there leaves the code spent (src/guard/half-sessions.ts).
   * Both stores are given the deadline that has passed, as ten minutes of waiting would.
   */
  it("its second step is refused and spends nothing: the backup code still works for the next login", async () => {
    await endedHalfSessionSpendsNothing(async (user, half) => {
      const token = half.cookie!;
      const ended = Date.now() - 1;
      expect(await guardRows(user.id, "UPDATE half_sessions SET expires_at = ? WHERE id = ? RETURNING id", ended, tokenHash(token))).toHaveLength(1);
      const moved = await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE id = ?").bind(ended, tokenHash(token)).run();
      expect(moved.meta.changes).toBe(1);
    });
  });
});

describe("a half session replaced by a new login in the same browser", () => {
  it("its old token's second step is refused and spends nothing: the backup code still works", async () => {
    const user = await newUser();
    const { backupCodes } = await enableTOTP(user.client);
    const half = await secondStepClient(user.email);
    const old = half.cookie!;
    // The same browser logs in again: the login replaces (and deletes) the half session it came with.
    expect((await half.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD })).body.status).toBe("second_factor_required");
    expect(half.cookie).not.toBe(old);
    const halves = (await guardSnapshot(user.id)).half_sessions as { id: string }[];
    expect(halves.map((h) => h.id)).toEqual([tokenHash(half.cookie!)]);

    const res = await verifyWith(old, { method: "backup_code", code: backupCodes[0] });
    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe("unauthenticated");
    expect((await guardCounters(user.id)).failures).toBe(0);

    expect((await half.json("POST", "/api/auth/verify", { method: "backup_code", code: backupCodes[0] })).body).toEqual({ status: "authenticated" });
  });
});
