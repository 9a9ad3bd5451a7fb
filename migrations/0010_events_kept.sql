-- A user's security events are kept to the newest 1000 (docs/security.md, R9g).
-- Every login writes one, and a right password gives the throttle's tokens back,
-- so a script logging in to its own account again and again added rows to D1
-- (one database, 10 GB) without bound. Each new event now deletes that user's
-- events beyond the newest 1000, whichever route wrote it. Kept whatever their
-- number: the recovery-code events a community's admins list
-- (RESET_EVENTS, src/communities/store.ts; written only by an admin's reset and
-- its code, 10 per community a day), and the user's newest `logged_in`, which
-- tells a first login from a later one (src/auth/new-browser.ts).
CREATE TRIGGER events_kept AFTER INSERT ON events
BEGIN
  DELETE FROM events
  WHERE rowid IN (
    SELECT rowid FROM events
    WHERE user_id = NEW.user_id
      AND type NOT IN ('recovery_code_issued', 'recovery_code_used', 'recovery_code_expired')
    ORDER BY at DESC, rowid DESC
    LIMIT -1 OFFSET 1000
  )
  AND rowid IS NOT (
    SELECT rowid FROM events WHERE user_id = NEW.user_id AND type = 'logged_in' ORDER BY at DESC, rowid DESC LIMIT 1
  );
END;
