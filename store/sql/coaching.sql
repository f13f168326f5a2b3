-- Deployment-wide coaching settings and the roll-out of a registry version (shared schema).

-- name: get_setting
SELECT value FROM sillage.settings WHERE key = $1;

-- name: put_setting
INSERT INTO sillage.settings (key, value, updated_at) VALUES ($1, $2, now())
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();

-- name: all_testers
SELECT id, role_name FROM sillage.users ORDER BY created_at, id;

-- name: hold_tester_queue
-- Wait for a pipeline step running for this tester, and keep a new one from starting, until this
-- transaction ends: footprints recomputed here are then never overwritten by a step that read the
-- old profile or registry, and a change that then queues a range (which locks the tester's
-- `pipeline_dirty` row) never waits for a step that waits for the rows the change holds. A step
-- takes the same lock before it claims the range, without waiting (pipeline.sql `try_hold_tester`):
-- while it is held, the tester is left for the next round. An upload takes only the row. The key
-- is the two-number form (apart from the one-number locks of locks.sql and migrations).
SELECT pg_advisory_xact_lock(hashtext('sillage.tester'), hashtext($1::uuid::text));
