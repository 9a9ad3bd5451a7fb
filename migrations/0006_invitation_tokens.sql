-- An invitation's email link carries a single-use token (`<invitation id>.<secret>`);
-- only the SHA-256 of its secret is kept here. Posting it to accept proves that the
-- account reads the invited address, so an account whose email is not yet verified
-- may accept with it (docs/api.md "Email ownership, passwords and sessions").
-- Invitations made before this migration have none: only verified accounts accept them.
ALTER TABLE invitations ADD COLUMN token_hash TEXT;
