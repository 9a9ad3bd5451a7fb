import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { Client } from "./support/client";
import { enableTOTP, logIn, newUser, recoveryClient, recoveryLogin, resetMember, resetWorld, verify } from "./support/fixtures";
import { guard, guardRows } from "./support/stores";

/**
 * An attacker with a copy of the data at rest (a D1 backup, one guard's
 * storage, the logs, the outbox) but not the Worker's secrets. Everything a
 * copy holds must be worthless without ENCRYPTION_KEYS: tokens are 256-bit
 * and stored as SHA-256, TOTP secrets sealed, cookies MACed; what is left to
 * try offline is a short, human-typed code.
 */

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * Every way this attacker can hash a guess at a backup code with what the copy holds (the user's id, the set's
 * salt and cost): the salted PBKDF2 of the code as the guard words it, and plain digests. Computed here with
 * WebCrypto, not with the service's helpers, so a change of those cannot make the check agree with itself.
 */
async function hashesWithoutKeys(userId: string, code: string, salt: string, iterations: number, purpose = "backup-code"): Promise<string[]> {
  const normalized = code.replaceAll("-", "").toLowerCase();
  const material = await crypto.subtle.importKey("raw", utf8(`${purpose}:${userId}:${normalized}`), "PBKDF2", false, ["deriveBits"]);
  const saltBytes = Uint8Array.from(atob(salt), (ch) => ch.charCodeAt(0));
  const pbkdf2 = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: saltBytes, iterations }, material, 256);
  const digests = await Promise.all([normalized, code, `${purpose}:${userId}:${normalized}`].map((s) => crypto.subtle.digest("SHA-256", utf8(s))));
  return [hex(pbkdf2), ...digests.map(hex)];
}

describe("a copy of a guard's storage", () => {
  // 10 codes of 50 bits under one salt: a guess is checked against the whole set, so a dump gives one live code
  // after about 2^50 / 11 guesses of 100,000 PBKDF2 iterations each, about 2^63 iterations, offline and unthrottled.
  it("cannot confirm a guess at a backup code without the Worker's keys (docs/security.md R12s)", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    const [state] = await guardRows<{ backup_salt: string; backup_iterations: number }>(u.id, "SELECT backup_salt, backup_iterations FROM state");
    const stored = (await guardRows<{ hash: string }>(u.id, "SELECT hash FROM backup_codes")).map((r) => r.hash);
    expect(stored).toHaveLength(10);
    for (const code of backupCodes) {
      for (const guess of await hashesWithoutKeys(u.id, code, state?.backup_salt as string, state?.backup_iterations as number)) {
        expect(stored, `${code} is confirmed by the copy alone`).not.toContain(guess);
      }
    }
    // The codes still do what they are for.
    const { client } = await logIn(u.email);
    expect((await verify(client, "backup_code", backupCodes[3] as string)).body).toEqual({ status: "authenticated" });
  });

  it("backup codes stored before keying still log in, and the set is keyed where it lies at the first check", async () => {
    const u = await newUser();
    const { backupCodes } = await enableTOTP(u.client);
    // The set as the previous release stored it: bare PBKDF2 under its salt, no key recorded.
    const salt = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const iterations = 1000;
    const bare = await Promise.all(backupCodes.map(async (code) => (await hashesWithoutKeys(u.id, code, salt, iterations))[0] as string));
    await runInDurableObject(guard(u.id), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DELETE FROM backup_codes");
      for (const hash of bare) sql.exec("INSERT INTO backup_codes (hash) VALUES (?)", hash);
      sql.exec("UPDATE state SET backup_salt = ?, backup_iterations = ?, backup_key_id = NULL WHERE id = 1", salt, iterations);
    });

    const first = await logIn(u.email);
    expect((await verify(first.client, "backup_code", backupCodes[0] as string)).body).toEqual({ status: "authenticated" });
    const stored = (await guardRows<{ hash: string }>(u.id, "SELECT hash FROM backup_codes")).map((r) => r.hash);
    expect(stored).toHaveLength(10);
    for (const hash of bare) expect(stored).not.toContain(hash);
    const [state] = await guardRows<{ backup_key_id: string | null }>(u.id, "SELECT backup_key_id FROM state");
    expect(state?.backup_key_id).not.toBeNull();

    const second = await logIn(u.email);
    expect((await verify(second.client, "backup_code", backupCodes[1] as string)).body).toEqual({ status: "authenticated" });
    const again = await logIn(u.email);
    expect((await verify(again.client, "backup_code", backupCodes[0] as string)).status).toBe(401);
  });
});

describe("a recovery code in a copy of a guard's storage", () => {
  // 80 bits under PBKDF2 alone is about 2^96 iterations for one code; keyed, the copy confirms no guess at any cost,
  // as for backup codes (R12s): one rule for every look-up secret the guard keeps.
  it("cannot be confirmed by a guess without the Worker's keys (docs/security.md R13n)", async () => {
    const { member, code, client } = await recoveryLogin();
    const [row] = await guardRows<{ hash: string; salt: string; iterations: number }>(member.id, "SELECT hash, salt, iterations FROM recovery");
    expect(row).toBeDefined();
    for (const guess of await hashesWithoutKeys(member.id, code, row?.salt as string, row?.iterations as number, "recovery-code")) {
      expect(row?.hash, "the recovery code is confirmed by the copy alone").not.toBe(guess);
    }
    // The code still does what it is for.
    expect((await verify(client, "recovery_code", code)).body).toEqual({ status: "enrollment_required" });
  });

  it("a recovery code issued before keying still works until it expires, keyed where it lies first", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const uid = world.member.id;
    // The code as the previous release stored it: bare PBKDF2 under its salt, no key recorded.
    const salt = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const iterations = 1000;
    const bare = (await hashesWithoutKeys(uid, recoveryCode, salt, iterations, "recovery-code"))[0] as string;
    await runInDurableObject(guard(uid), (_instance, state) => {
      state.storage.sql.exec("UPDATE recovery SET hash = ?, salt = ?, iterations = ?, key_id = NULL WHERE id = 1", bare, salt, iterations);
    });
    const wrong = await recoveryClient(world.member);
    expect((await verify(wrong, "recovery_code", "0000-0000-0000-0000")).status).toBe(401);
    // Keyed where it lies by the first check, before any right code was given.
    const [keyed] = await guardRows<{ hash: string; key_id: string | null }>(uid, "SELECT hash, key_id FROM recovery");
    expect(keyed?.hash).not.toBe(bare);
    expect(keyed?.key_id).not.toBeNull();
    const client = await recoveryClient(world.member);
    expect((await verify(client, "recovery_code", recoveryCode)).body).toEqual({ status: "enrollment_required" });
  });
});

describe("a link sealed in a guard's storage, waiting for its email", () => {
  it("opens only in its own account's mail to its own recipient (docs/security.md R12t)", async () => {
    const victim = await newUser({ verified: false });
    const attacker = await newUser();
    const binding = env.EMAIL;
    const real = binding.send;
    const delivered: { to: string; text: string }[] = [];
    let victimDown = true;
    // The platform's binding, not ours: it refuses the victim's mail for now, so the victim's link waits sealed.
    const send = vi.spyOn(binding, "send").mockImplementation((message: unknown) => {
      const m = message as { to: string; text: string };
      if (victimDown && m.to === victim.email) return Promise.reject(new Error("E_DELIVERY_FAILED"));
      delivered.push({ to: m.to, text: m.text });
      return Reflect.apply(real, binding, [message]);
    });
    try {
      expect((await victim.client.json("POST", "/api/auth/verify-email/resend")).status).toBe(204);
      const [waiting] = await guardRows<{ mail: string; sealed_secret: string }>(
        victim.id,
        "SELECT mail, sealed_secret FROM pending WHERE sealed_secret IS NOT NULL",
      );
      expect(waiting).toBeDefined();
      const redirected = JSON.stringify({ ...JSON.parse(waiting?.mail as string), to: attacker.email });
      // Someone who can write storage copies the sealed link into a mail to themselves: in their own account's
      // guard, and in the victim's (the mail's id unchanged, only the recipient).
      for (const holder of [attacker.id, victim.id]) {
        await runInDurableObject(guard(holder), (_instance, state) => {
          state.storage.sql.exec(
            "INSERT INTO pending (id, created_at, statements, mail, d1_done, next_at, sealed_secret) VALUES (?, ?, '[]', ?, 1, 0, ?)",
            `copy-${crypto.randomUUID()}`,
            Date.now(),
            redirected,
            waiting?.sealed_secret as string,
          );
        });
        // The guard's alarm, run to its end here: it flushes what is pending.
        await runInDurableObject(guard(holder), (instance) => instance.alarm());
      }
      expect(delivered.filter((m) => m.to === attacker.email && m.text.includes(`#token=${victim.id}.`))).toEqual([]);

      // The victim's own mail still carries its working link once the provider takes it.
      victimDown = false;
      await runInDurableObject(guard(victim.id), (instance, state) => {
        state.storage.sql.exec("UPDATE pending SET next_at = 0");
        return instance.alarm();
      });
      const link = delivered.filter((m) => m.to === victim.email).map((m) => /#token=([A-Za-z0-9_.-]+)/.exec(m.text)?.[1])[0];
      expect(link).toMatch(new RegExp(`^${victim.id}\\.`));
      const proven = await new Client().json("POST", "/api/auth/verify-email", { token: link });
      expect(proven.body).toEqual({ emailVerified: true });
    } finally {
      send.mockRestore();
    }
  });
});
