-- The contract names a community policy change `policy_changed` (docs/api.md
-- "Email ownership, passwords and sessions", more event types); the service
-- wrote `community_policy_changed`, so a client reading GET /api/security
-- never saw it. Events written before the rename take the contract's name.
UPDATE events SET type = 'policy_changed' WHERE type = 'community_policy_changed';
