import { env, runInDurableObject } from "cloudflare:test";
import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { generateBackupCodes, hashBackupCode } from "../src/backup-codes/codes";
import { loadKeyRing, seal } from "../src/factors/totp/secret-box";
import { LATEST_VERSION, MIGRATIONS, migrate } from "../src/guard/migrations";
import { Admission } from "../src/lib/admission";
import { newCodeHashParams } from "../src/lib/code-hash";
import { hashRecoveryCode } from "../src/recovery/codes";
import { Client } from "./support/client";
import { totpCode } from "./support/codes";
import { newUser, PASSWORD, recoveryClient, resetMember, resetWorld, verify } from "./support/fixtures";
import { SoftAuthenticator } from "./support/soft-authenticator";
import { guard, guardRows } from "./support/stores";
import { loginOptions } from "./support/webauthn";

/**
 * A guard outlives every deployment: a user whose guard was written by an
 * older version of the code must still log in after the schema moved on
 * (src/guard/migrations.ts). Each test builds a guard as version 1 left it,
 * with rows written against version 1's columns (an authenticator app with a
 * sealed secret, a security key, backup codes), runs the migrations up to the
 * latest exactly as the guard's constructor does, then logs that user in over
 * HTTP with every method. Nothing there names a later migration: each one
 * added is exercised by those tests as they stand. The last test also holds
 * what only a guard already in use has (a recovery code outstanding across
 * the upgrade that re-keys it), so it starts from version 12.
 */

interface V1User {
  id: string;
  email: string;
  totpSecret: string;
  key: SoftAuthenticator;
  backupCodes: string[];
}

/** Everything of a guard's own (its tables and views), gone: an object as a fresh deployment of version 1 would find it. */
function dropEverything(sql: SqlStorage): void {
  const objects = sql
    .exec<{ type: string; name: string }>(
      "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
    )
    .toArray();
  for (const o of objects) sql.exec(`DROP ${o.type === "view" ? "VIEW" : "TABLE"} IF EXISTS "${o.name}"`);
}

/**
 * A user (signed up over HTTP) whose guard holds version 1's schema and
 * version 1's rows. `versioned`: made by `migrate(storage, 1)`; otherwise as
 * guards made before migrations were numbered: version 1's tables and no
 * version at all.
 */
async function userOnVersion1(versioned: boolean): Promise<V1User> {
  const { id, email } = await newUser();
  const now = Date.now();
  const totpId = `app-${id}`;
  const keyId = `key-${id}`;
  const rawSecret = crypto.getRandomValues(new Uint8Array(20));
  const sealed = await seal(await loadKeyRing(env.ENCRYPTION_KEYS), rawSecret, `totp:${id}:${totpId}`);
  const key = await SoftAuthenticator.create();
  const publicKey = await key.coseKey();
  const backupCodes = generateBackupCodes();
  const params = newCodeHashParams(Number(env.CODE_HASH_ITERATIONS));
  const hashes = await Promise.all(backupCodes.map((code) => hashBackupCode(id, code, params, new Admission()) as Promise<string>));

  await runInDurableObject(guard(id), (_instance, state) => {
    const sql = state.storage.sql;
    dropEverything(sql);
    if (versioned) expect(migrate(state.storage, 1)).toBe(1);
    else sql.exec(MIGRATIONS[0] as string);
    // Version 1's columns, named one by one: these statements must not change when later migrations come.
    sql.exec("UPDATE state SET user_id = ?, preferred = 'totp', backup_salt = ?, backup_iterations = ? WHERE id = 1", id, params.salt, params.iterations);
    sql.exec(
      "INSERT INTO totp (id, name, key_id, secret, created_at, confirmed_at, pending_expires_at, last_step, last_used_at) VALUES (?, 'Phone', ?, ?, ?, ?, NULL, -1, NULL)",
      totpId,
      sealed.keyId,
      sealed.box,
      now,
      now,
    );
    sql.exec(
      `INSERT INTO webauthn (id, credential_id, public_key, counter, transports, device_type, backed_up, aaguid, name, created_at, last_used_at)
       VALUES (?, ?, ?, 0, '["usb"]', 'singleDevice', 0, '00000000-0000-0000-0000-000000000000', 'Key', ?, NULL)`,
      keyId,
      key.id,
      publicKey,
      now + 1,
    );
    for (const hash of hashes) sql.exec("INSERT INTO backup_codes (hash, used_at) VALUES (?, NULL)", hash);
  });
  // D1's listing copies, as the guard's pending statements wrote them then.
  await env.DB.batch([
    env.DB.prepare("UPDATE users SET two_factor_enabled = 1, preferred = 'totp' WHERE id = ?").bind(id),
    env.DB.prepare("INSERT INTO methods (id, user_id, type, name, created_at) VALUES (?, ?, 'totp', 'Phone', ?)").bind(totpId, id, now),
    env.DB.prepare("INSERT INTO methods (id, user_id, type, name, created_at, credential_id) VALUES (?, ?, 'webauthn', 'Key', ?, ?)").bind(
      keyId,
      id,
      now + 1,
      key.id,
    ),
  ]);
  const totpSecret = new OTPAuth.Secret({ buffer: rawSecret.slice().buffer }).base32;
  return { id, email, totpSecret, key, backupCodes };
}

/** A new browser's password step: the upgraded guard must offer every method, the preferred first. */
async function passwordStep(user: V1User): Promise<Client> {
  const client = new Client();
  const login = await client.json("POST", "/api/auth/login", { email: user.email, password: PASSWORD });
  expect(login.body).toEqual({ status: "second_factor_required", methods: ["totp", "webauthn", "backup_code"], preferred: "totp" });
  return client;
}

async function expectLoggedIn(client: Client): Promise<void> {
  const me = await client.json("GET", "/api/me");
  expect(me.status).toBe(200);
  expect(me.body.stage).toBe("authenticated");
}

describe.each([
  ["a guard at version 1", true],
  ["a guard made before migrations were numbered (version 1's tables, no version)", false],
])("%s, upgraded to the latest version", (_name, versioned) => {
  it("keeps its user's app, key and backup codes: the user logs in with each", async () => {
    const user = await userOnVersion1(versioned);
    const reached = await runInDurableObject(guard(user.id), (_instance, state) => migrate(state.storage));
    expect(reached).toBe(LATEST_VERSION);
    expect(await runInDurableObject(guard(user.id), (_instance, state) => state.storage.sql.exec("SELECT version FROM schema_version").one().version)).toBe(
      LATEST_VERSION,
    );

    const byApp = await passwordStep(user);
    expect((await byApp.json("POST", "/api/auth/verify", { method: "totp", code: totpCode(user.totpSecret) })).body).toEqual({ status: "authenticated" });
    await expectLoggedIn(byApp);

    const byKey = await passwordStep(user);
    const response = await user.key.assert(await loginOptions(byKey));
    expect((await byKey.json("POST", "/api/auth/verify", { method: "webauthn", response })).body).toEqual({ status: "authenticated" });
    await expectLoggedIn(byKey);

    const byCode = await passwordStep(user);
    expect((await byCode.json("POST", "/api/auth/verify", { method: "backup_code", code: user.backupCodes[0] })).body).toEqual({ status: "authenticated" });
    await expectLoggedIn(byCode);
    // The upgraded guard counts what is left, as it always did.
    const security = await byCode.json("GET", "/api/security");
    expect(security.body.backupCodes).toEqual({ remaining: 9 });
    expect(security.body.methods.map((m: { name: string }) => m.name)).toEqual(["Phone", "Key"]);
  });
});

/**
 * A member reset before their guard's upgrade to version 13 (keyed recovery codes, docs/security.md R13n) and 14
 * (ended memberships, R13m): the code the admin passed on was stored bare, in the columns version 12 had, and must
 * still log the member in once the guard has moved on.
 */
describe("a guard at version 12 holding a recovery code, upgraded to the latest version", () => {
  it("lets the member in with the recovery code issued before the upgrade", async () => {
    const world = await resetWorld();
    const { recoveryCode } = await resetMember(world);
    const uid = world.member.id;
    const salt = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const params = { salt, iterations: Number(env.CODE_HASH_ITERATIONS) };
    const bare = (await hashRecoveryCode(uid, recoveryCode, params, new Admission())) as string;
    await runInDurableObject(guard(uid), (_instance, state) => {
      const sql = state.storage.sql;
      // Version 12's shape of what migrations 13 and 14 touch, and the code as version 12 stored it.
      sql.exec("DROP TABLE memberships_left");
      sql.exec("DROP TABLE resets_withdrawn");
      sql.exec("ALTER TABLE admin_acts DROP COLUMN community");
      sql.exec("ALTER TABLE recovery_claims DROP COLUMN key_id");
      sql.exec("ALTER TABLE recovery DROP COLUMN key_id");
      sql.exec("UPDATE recovery SET hash = ?, salt = ?, iterations = ? WHERE id = 1", bare, params.salt, params.iterations);
      sql.exec("UPDATE schema_version SET version = 12");
      expect(migrate(state.storage)).toBe(LATEST_VERSION);
    });
    const client = await recoveryClient(world.member);
    expect((await verify(client, "recovery_code", recoveryCode)).body).toEqual({ status: "enrollment_required" });
    // Keyed where it lay before that check: the session's claim records the key, and holds no bare hash.
    const claims = await guardRows<{ hash: string; key_id: string | null }>(uid, "SELECT hash, key_id FROM recovery_claims");
    expect(claims).toHaveLength(1);
    expect(claims[0]?.key_id).not.toBeNull();
    expect(claims[0]?.hash).not.toBe(bare);
  });
});
