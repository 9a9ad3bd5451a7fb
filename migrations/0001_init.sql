-- Accounts and everything that is listed, not consumed. Single-use and
-- counted facts live in the user's guard (Durable Object); see docs/architecture.md.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- Copies of the guard's state, kept for listing (members table, /api/me).
  -- The guard's answer wins on every verification.
  two_factor_enabled INTEGER NOT NULL DEFAULT 0,
  preferred TEXT CHECK (preferred IN ('totp', 'webauthn')),
  recovery_expires_at INTEGER,
  -- Sessions whose epoch is older than this are dead (reset, disable, removal).
  session_epoch INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,                -- SHA-256 of the cookie token, hex
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  stage TEXT NOT NULL CHECK (stage IN ('second_factor', 'recovery', 'enrollment', 'authenticated')),
  epoch INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  reauth_at INTEGER,
  ip TEXT,
  user_agent TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE communities (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
  community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  joined_at INTEGER NOT NULL,
  PRIMARY KEY (community_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  invited_by TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  accepted_at INTEGER,
  accepted_by TEXT REFERENCES users(id)
);
CREATE INDEX invitations_email ON invitations(email);
CREATE INDEX invitations_community ON invitations(community_id);

-- Method metadata for listing. Secrets, counters and last accepted steps are
-- in the guard only.
CREATE TABLE methods (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('totp', 'webauthn')),
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX methods_user ON methods(user_id);

CREATE TABLE events (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  ip TEXT,
  user_agent TEXT,
  actor_id TEXT,
  data TEXT
);
CREATE INDEX events_user_at ON events(user_id, at DESC);

-- Every email the service decided to send. Delivery is driven by the guard that
-- recorded it (its alarm retries); this table is the durable record.
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  recipient TEXT NOT NULL,
  template TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX outbox_unsent ON outbox(sent_at, created_at);
