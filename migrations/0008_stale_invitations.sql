-- Invitations still pending whose inviter is no longer an admin of the
-- community. Since ending a membership deletes that user's pending
-- invitations, and accepting requires the inviter to be an admin still, such
-- rows are hidden and refused everywhere (docs/security.md, R7a); these are
-- the ones written before that rule, which nothing would otherwise remove.
DELETE FROM invitations
WHERE accepted_at IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM memberships a
    WHERE a.community_id = invitations.community_id AND a.user_id = invitations.invited_by AND a.role = 'admin'
  );
