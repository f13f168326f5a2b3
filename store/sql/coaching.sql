-- Deployment-wide coaching settings and the roll-out of a registry version (shared schema).

-- name: get_setting
SELECT value FROM sillage.settings WHERE key = $1;

-- name: put_setting
INSERT INTO sillage.settings (key, value, updated_at) VALUES ($1, $2, now())
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();

-- name: all_testers
SELECT id, role_name FROM sillage.users ORDER BY created_at, id;

-- name: hold_tester_queue
-- Wait for a pipeline run that holds this tester's pending range, and keep a new one from
-- starting, until this transaction ends: footprints recomputed here are then never overwritten
-- by a run that read the old profile or registry.
SELECT 1 FROM sillage.pipeline_dirty WHERE user_id = $1 FOR UPDATE;
