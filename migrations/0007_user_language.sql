-- The language a user's emails are written in when no request of theirs
-- causes the email (an admin's reset, a removal, a notice to co-admins, an
-- invitation to their address): the language of their last completed login
-- (docs/email.md "Which language"). NULL until one; values are the codes of
-- src/notify/language.ts, and one we no longer have reads as NULL.
ALTER TABLE users ADD COLUMN lang TEXT;
