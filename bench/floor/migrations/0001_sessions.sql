CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, stage TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX sessions_user ON sessions(user_id);
