-- Security keys: D1 keeps each key's credential id beside its listing row, so
-- that one credential belongs to one account only. WebAuthn §7.1 (Registering
-- a New Credential): "Verify that the credentialId is not yet registered for
-- any user"; the guard only knows its own user, so the unique index here is
-- the check across users. NULL for authenticator apps (NULLs never conflict).
ALTER TABLE methods ADD COLUMN credential_id TEXT;
CREATE UNIQUE INDEX methods_credential ON methods(credential_id);
