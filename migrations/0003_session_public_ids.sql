-- Sessions the user can see and end (docs/api.md "Email ownership, passwords
-- and sessions"). A row's primary key is the SHA-256 of its cookie token and
-- changes at every stage change and re-entered password; the Security page
-- needs a name for the session that is neither the token nor its hash and
-- that stays the same for the session's whole life: `public_id`, 128 random
-- bits, set at insert (src/auth/session-store.ts) and never updated.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
UPDATE sessions SET public_id = lower(hex(randomblob(16))) WHERE public_id IS NULL;
CREATE UNIQUE INDEX sessions_public_id ON sessions(public_id);

-- A password step from a browser without a valid device cookie for the
-- account: when the session becomes `authenticated` (at once, or after the
-- second step) the user is sent a new-browser alert (src/auth/new-browser.ts).
ALTER TABLE sessions ADD COLUMN new_browser INTEGER NOT NULL DEFAULT 0;
