/**
 * The guard's own SQLite storage, one numbered migration at a time: everything
 * about one user that must be consumed once, counted, or kept secret.
 *
 * A guard outlives any deployment, so a schema change is a new migration
 * appended here, never an edit of an old one. The constructor runs the ones a
 * guard has not had yet (`migrate`), once per object, before any call is
 * served. The number of the last one applied is kept in `schema_version`:
 * Durable Object SQLite refuses `PRAGMA user_version` (SQLITE_AUTH).
 *
 * Migration 1 is the schema as it stood before migrations were numbered, in
 * statements that change nothing when run again: guards made then have its
 * tables and no version, and come through it unchanged.
 *
 * test/guard-upgrade.test.ts builds a guard at version 1, upgrades it and logs
 * its user in with every method: a new migration is tested by it as it stands.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: state, authenticator apps, security keys, challenges, backup and recovery codes, pending D1 writes, deadlines.
  `
CREATE TABLE IF NOT EXISTS state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  user_id TEXT,
  epoch INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0,
  preferred TEXT,
  -- Set by an admin reset, cleared when a new method is confirmed.
  recovery_pending INTEGER NOT NULL DEFAULT 0,
  password_tokens REAL,
  password_tokens_at INTEGER,
  -- Locks since the last success: each one lasts twice as long as the one before.
  lock_count INTEGER NOT NULL DEFAULT 0,
  -- Salt and cost of the current set of backup codes (src/lib/code-hash.ts).
  backup_salt TEXT,
  backup_iterations INTEGER
);
INSERT OR IGNORE INTO state (id) VALUES (1);

CREATE TABLE IF NOT EXISTS totp (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  secret BLOB NOT NULL,              -- AES-GCM: 12-byte IV then ciphertext
  created_at INTEGER NOT NULL,
  confirmed_at INTEGER,
  pending_expires_at INTEGER,        -- unconfirmed enrollments expire
  last_step INTEGER NOT NULL DEFAULT -1,
  last_used_at INTEGER
);

CREATE TABLE IF NOT EXISTS webauthn (
  id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL UNIQUE,
  public_key BLOB NOT NULL,
  counter INTEGER NOT NULL DEFAULT 0,
  transports TEXT,
  device_type TEXT,
  backed_up INTEGER NOT NULL DEFAULT 0,
  aaguid TEXT,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);

CREATE TABLE IF NOT EXISTS challenges (
  challenge TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('registration', 'authentication')),
  expires_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS backup_codes (
  hash TEXT PRIMARY KEY,
  used_at INTEGER
);

CREATE TABLE IF NOT EXISTS recovery (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  hash TEXT NOT NULL,
  salt TEXT NOT NULL,
  iterations INTEGER NOT NULL,
  issued_by TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- A recovery code accepted for one session, kept until that session's own
-- lifetime ends: if the Worker's D1 write that moves the session on fails,
-- the same session may give the same code again (never another session).
CREATE TABLE IF NOT EXISTS recovery_claims (
  session_id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  salt TEXT NOT NULL,
  iterations INTEGER NOT NULL,
  until INTEGER NOT NULL
);

-- What D1 (and the mailbox) must still learn about a change already applied here.
CREATE TABLE IF NOT EXISTS pending (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  statements TEXT NOT NULL,
  mail TEXT,
  d1_done INTEGER NOT NULL DEFAULT 0,
  mail_done INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  last_error TEXT
);

-- One alarm, many deadlines: the alarm is always set to the earliest of these.
DROP VIEW IF EXISTS deadlines;
CREATE VIEW deadlines AS
  SELECT pending_expires_at AS due FROM totp WHERE confirmed_at IS NULL
  UNION ALL SELECT expires_at FROM challenges
  UNION ALL SELECT expires_at FROM recovery
  UNION ALL SELECT until FROM recovery_claims
  UNION ALL SELECT next_at FROM pending;
`,
  // 2: single-use email tokens (verify the email, reset the password, a device link), whether the email is proven, sealed secrets of pending mail.
  `
-- One live token per purpose: a newer one replaces the older. Only the
-- SHA-256 of its secret is kept; claimed by one DELETE ... RETURNING.
CREATE TABLE tokens (
  purpose TEXT PRIMARY KEY CHECK (purpose IN ('verify_email', 'password_reset', 'device_link')),
  hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

-- The truth of whether the user's email is proven: read and changed in the same
-- step as a password reset decides whether the account's 2FA stays.
ALTER TABLE state ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
-- When the last device link was emailed: at most one every few minutes.
ALTER TABLE state ADD COLUMN device_link_at INTEGER NOT NULL DEFAULT 0;

-- A token an email carries, sealed (AES-GCM, ENCRYPTION_KEYS) until the
-- email is delivered; the pending mail and D1's outbox hold the text without it.
ALTER TABLE pending ADD COLUMN sealed_secret TEXT;

-- Durable Object SQLite allows at most five terms in one compound SELECT:
-- the codes' and tokens' deadlines are one term of their own.
DROP VIEW IF EXISTS deadlines;
CREATE VIEW deadlines AS
  SELECT pending_expires_at AS due FROM totp WHERE confirmed_at IS NULL
  UNION ALL SELECT expires_at FROM challenges
  UNION ALL SELECT due FROM (SELECT expires_at AS due FROM recovery UNION ALL SELECT until FROM recovery_claims UNION ALL SELECT expires_at FROM tokens)
  UNION ALL SELECT next_at FROM pending;
`,
  // 3: trusted browsers: the SHA-256 of each remembered browser's token, and its dates (src/guard/trusted.ts).
  // Expired rows are refused by every check and purged at the next use or alarm, so no deadline is needed.
  `
CREATE TABLE trusted_browsers (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT
);
`,
  // 4: half sessions (logged in with the password, at the second step): the D1 session's id and what
  // the second step needs of it, so that step reads no session from D1 (src/guard/half-sessions.ts).
  // Expired rows are refused by the lookup and purged at the next login, so no deadline is needed.
  `
CREATE TABLE half_sessions (
  id TEXT PRIMARY KEY,
  stage TEXT NOT NULL CHECK (stage IN ('second_factor', 'recovery')),
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  email TEXT NOT NULL,
  name TEXT NOT NULL,
  lang TEXT,
  new_browser INTEGER NOT NULL
);
`,
  // 5: the epoch the last password change or reset ended sessions at. A login whose password was read from
  // D1 before that change reached it opens its session at D1's older epoch (src/guard/state.ts loginState);
  // a session ended for any other reason (an admin's reset, a method removed) changed no password.
  `
ALTER TABLE state ADD COLUMN password_epoch INTEGER NOT NULL DEFAULT 0;
`,
  // 6: a token bucket for the security emails sent to the user's address while it is not proven (src/guard/effects.ts
  // UNPROVEN_MAIL_POLICY): whoever made the account with someone else's address cannot have them mailed without bound.
  `
ALTER TABLE state ADD COLUMN mail_tokens REAL;
ALTER TABLE state ADD COLUMN mail_tokens_at INTEGER;
`,
  // 7: a security key's challenge belongs to the session that asked for it, spent by that session alone and
  // bounded per session (src/guard/ceremonies.ts, docs/security.md R10b). Open challenges were the user's,
  // bound to no session: they are dropped, not guessed at. One lives 5 minutes; a ceremony open across the
  // upgrade is refused once ("not accepted", a counted refusal for a login) and the page asks again.
  `
DROP VIEW deadlines;
DROP TABLE challenges;
CREATE TABLE challenges (
  challenge TEXT PRIMARY KEY,
  purpose TEXT NOT NULL CHECK (purpose IN ('registration', 'authentication')),
  -- A login's: the half session's id; a registration's: the D1 session's public id.
  session TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX challenges_by_session ON challenges (session, purpose);

CREATE VIEW deadlines AS
  SELECT pending_expires_at AS due FROM totp WHERE confirmed_at IS NULL
  UNION ALL SELECT expires_at FROM challenges
  UNION ALL SELECT due FROM (SELECT expires_at AS due FROM recovery UNION ALL SELECT until FROM recovery_claims UNION ALL SELECT expires_at FROM tokens)
  UNION ALL SELECT next_at FROM pending;
`,
  // 8: the password generation a half session's login was checked against (src/auth/device.ts, docs/security.md R10d):
  // the second step mints the browser's device token for it without reading the user's row. Half sessions open at the
  // upgrade have none and mark no device when they complete; they live 10 minutes.
  `
ALTER TABLE half_sessions ADD COLUMN device_generation TEXT;
`,
  // 9: a security key's credential id claimed in D1 before the key joins the guard (src/guard/key-claims.ts,
  // docs/security.md R11b): the claim is kept here until the registration ends, so that one the guard never finished
  // (restarted mid-call) is released by the alarm. Five terms at most per compound SELECT: it joins the nested one.
  `
CREATE TABLE key_claims (
  method_id TEXT PRIMARY KEY,
  credential_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

DROP VIEW deadlines;
CREATE VIEW deadlines AS
  SELECT pending_expires_at AS due FROM totp WHERE confirmed_at IS NULL
  UNION ALL SELECT expires_at FROM challenges
  UNION ALL SELECT due FROM (
    SELECT expires_at AS due FROM recovery UNION ALL SELECT until FROM recovery_claims UNION ALL SELECT expires_at FROM tokens
    UNION ALL SELECT expires_at FROM key_claims)
  UNION ALL SELECT next_at FROM pending;
`,
  // 10: the admin resets this guard's user has begun (src/guard/reset.ts, docs/security.md R12m): a reset of this user by
  // the very member they are resetting is refused when this user's began first, so two admins resetting each other at
  // once cannot both land. A row outlives the longest a reset may take to land, and the alarm deletes it after.
  `
CREATE TABLE admin_acts (
  target TEXT NOT NULL,
  began_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX admin_acts_by_target ON admin_acts (target);

DROP VIEW deadlines;
CREATE VIEW deadlines AS
  SELECT pending_expires_at AS due FROM totp WHERE confirmed_at IS NULL
  UNION ALL SELECT expires_at FROM challenges
  UNION ALL SELECT due FROM (
    SELECT expires_at AS due FROM recovery UNION ALL SELECT until FROM recovery_claims UNION ALL SELECT expires_at FROM tokens
    UNION ALL SELECT expires_at FROM key_claims UNION ALL SELECT expires_at FROM admin_acts)
  UNION ALL SELECT next_at FROM pending;
`,
  // 11: the ENCRYPTION_KEYS entry that keys the backup codes' hashes (src/lib/code-hash.ts, docs/security.md R12s). A set
  // stored before has none: its bare hashes are keyed where they lie when the guard next wakes (src/guard/code-keys.ts).
  `
ALTER TABLE state ADD COLUMN backup_key_id TEXT;
`,
  // 12: the admin resets that landed on this guard's user, by whom and when each began (src/guard/reset.ts,
  // docs/security.md R12y): this user's next reset of that admin says so, and the admin's guard no longer holds its own
  // start of that landed reset against a session the reset did not end. No deadline of its own (the alarm stays
  // at the recovery code's expiry): the next landing and any alarm, that expiry's included, delete rows past use.
  `
CREATE TABLE resets_received (
  admin TEXT NOT NULL,
  began_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX resets_received_by_admin ON resets_received (admin);
`,
  // 13: the ENCRYPTION_KEYS entry that keys a recovery code's hash, and a claim's (src/lib/code-hash.ts, docs/security.md
  // R13n). A code issued before has none: its bare hash is keyed where it lies when the guard next wakes, or before a
  // recovery code is checked (src/guard/code-keys.ts). A claim made before (10 minutes at most) is checked bare.
  `
ALTER TABLE recovery ADD COLUMN key_id TEXT;
ALTER TABLE recovery_claims ADD COLUMN key_id TEXT;
`,
  // 14: the end of a membership, told to the guard before D1 deletes the row (src/guard/reset.ts, docs/security.md
  // R13m): a reset the route checked against the old membership is refused when it arrives. `memberships_left`: the
  // communities this user just left or was removed from; `resets_withdrawn`: resets begun by an admin who has since
  // left the member's community; `admin_acts.community`: where a reset this user began was made (none for rows from
  // before, which live 2 minutes). Rows live as long as a reset may take to land; the alarm and each write delete them.
  `
CREATE TABLE memberships_left (
  community TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE TABLE resets_withdrawn (
  admin TEXT NOT NULL,
  began_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (admin, began_at)
);
ALTER TABLE admin_acts ADD COLUMN community TEXT;
`,
];

/** The version this code expects; every guard is brought to it before it serves a call. */
export const LATEST_VERSION = MIGRATIONS.length;

/**
 * Applies the migrations after the guard's version, each with its new version
 * number in one transaction, up to `target` (the latest unless a test asks
 * for less). Returns the version reached.
 */
export function migrate(storage: DurableObjectStorage, target = LATEST_VERSION): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  let version = sql.exec<{ version: number }>("SELECT version FROM schema_version WHERE id = 1").toArray()[0]?.version ?? 0;
  while (version < target) {
    const next = version + 1;
    storage.transactionSync(() => {
      sql.exec(MIGRATIONS[next - 1] as string);
      sql.exec("INSERT INTO schema_version (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version", next);
    });
    version = next;
  }
  return version;
}
