-- A user's live sessions are capped by count, not only by time (docs/security.md,
-- R10a). A right password gives the throttle's tokens back, so a script logging
-- in to its own account again and again kept every row of the last hour alive
-- (tens of thousands per account). Each row that enters a class of sessions, by
-- a login's INSERT or by a stage change (a second step completed, a recovery
-- code accepted), now deletes that user's rows of the same class beyond the
-- newest: the least recently used end first (last_seen_at, which a half
-- session never moves and a full one moves at most every 5 minutes).
--
-- Three classes, each with its own count, so that no class can push out another:
--   - full (`authenticated`): 100, as many as the Security page lists, so every
--     full session kept can be seen and ended there;
--   - second step (`second_factor`, `recovery`): 20. The password alone opens
--     these: counted with the full ones, someone who has only the password
--     could end the owner's sessions by logging in again and again. The
--     user's guard keeps the same ones and bounds them the same way
--     (src/guard/half-sessions.ts), so a second step D1 ended is refused by
--     the guard before it spends a code;
--   - `enrollment`: 20. Also open to the password alone (a community's 2FA
--     policy is due), so not with the full ones; not with the second-step ones
--     either, which the guard does not hold it among: the guard's count and
--     D1's stay the same.
-- The numbers are FULL_SESSIONS_KEPT and HALF_SESSIONS_KEPT (src/session.ts).
CREATE TRIGGER sessions_kept AFTER INSERT ON sessions
BEGIN
  DELETE FROM sessions
  WHERE rowid IN (
    SELECT rowid FROM sessions
    WHERE user_id = NEW.user_id
      AND (stage = NEW.stage OR (stage IN ('second_factor', 'recovery') AND NEW.stage IN ('second_factor', 'recovery')))
    ORDER BY last_seen_at DESC, rowid DESC
    LIMIT -1 OFFSET (CASE NEW.stage WHEN 'authenticated' THEN 100 ELSE 20 END)
  );
END;

CREATE TRIGGER sessions_kept_on_stage AFTER UPDATE OF stage ON sessions
WHEN NEW.stage != OLD.stage
BEGIN
  DELETE FROM sessions
  WHERE rowid IN (
    SELECT rowid FROM sessions
    WHERE user_id = NEW.user_id
      AND (stage = NEW.stage OR (stage IN ('second_factor', 'recovery') AND NEW.stage IN ('second_factor', 'recovery')))
    ORDER BY last_seen_at DESC, rowid DESC
    LIMIT -1 OFFSET (CASE NEW.stage WHEN 'authenticated' THEN 100 ELSE 20 END)
  );
END;
