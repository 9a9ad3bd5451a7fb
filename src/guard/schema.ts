/**
 * The guard's own SQLite schema: everything about one user that must be
 * consumed once, counted, or kept secret. Created in the constructor, so every
 * statement is idempotent.
 */
export const GUARD_SCHEMA = `
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
`;
