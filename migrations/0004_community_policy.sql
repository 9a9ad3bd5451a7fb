-- A community's two-factor policy (docs/api.md "Community policy, membership
-- and safeguards"). enforced_from is set when require_two_factor turns on and
-- kept while it stays on; a member's deadline is the later of it and their
-- joining, plus grace_days (src/communities/policy.ts).
ALTER TABLE communities ADD COLUMN require_two_factor INTEGER NOT NULL DEFAULT 0 CHECK (require_two_factor IN (0, 1));
ALTER TABLE communities ADD COLUMN grace_days INTEGER NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 30);
ALTER TABLE communities ADD COLUMN allow_trusted_browsers INTEGER NOT NULL DEFAULT 1 CHECK (allow_trusted_browsers IN (0, 1));
ALTER TABLE communities ADD COLUMN enforced_from INTEGER;
