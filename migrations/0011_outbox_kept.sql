-- The outbox keeps what it has settled for a while, not forever (docs/security.md,
-- R9j). Every email the service sends leaves a row with its text, and a script
-- logging in from new browsers again and again (each login emails its proven
-- owner an alert) added rows to D1 (one database, 10 GB) without bound. Each
-- email settled (sent, or given up: R9m) now deletes its user's settled rows
-- beyond the newest 1000, and an email of no user's (an invitation to an
-- address, user_id '') the settled rows of no user's older than 30 days. A row
-- still being retried is the guard's business and is never deleted here.
CREATE INDEX outbox_user ON outbox(user_id, created_at);

CREATE TRIGGER outbox_kept AFTER UPDATE OF sent_at, last_error ON outbox
WHEN NEW.sent_at IS NOT NULL OR NEW.last_error LIKE 'gave up:%'
BEGIN
  DELETE FROM outbox
  WHERE rowid IN (
    SELECT rowid FROM outbox
    WHERE user_id = NEW.user_id AND NEW.user_id != ''
      AND (sent_at IS NOT NULL OR last_error LIKE 'gave up:%')
    ORDER BY created_at DESC, rowid DESC
    LIMIT -1 OFFSET 1000
  );
  DELETE FROM outbox
  WHERE NEW.user_id = '' AND user_id = '' AND created_at < NEW.created_at - 30 * 86400000
    AND (sent_at IS NOT NULL OR last_error LIKE 'gave up:%');
END;
