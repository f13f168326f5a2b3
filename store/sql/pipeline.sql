-- The incremental pipeline's queue (shared schema).

-- name: due_users
SELECT d.user_id, u.role_name
FROM sillage.pipeline_dirty d JOIN sillage.users u ON u.id = d.user_id
WHERE d.due_at <= $1
ORDER BY d.due_at
LIMIT $2;

-- name: try_hold_tester
-- The lock a change to the tester's trips holds (coaching.sql `hold_tester_queue`), taken before
-- the claim, without waiting: false while a change is under way (the step leaves the tester for
-- its next round; waiting here, holding nothing yet, would only stall the lane).
SELECT pg_try_advisory_xact_lock(hashtext('sillage.tester'), hashtext($1::uuid::text));

-- name: lock_dirty
-- Claim one tester's pending range; a concurrent upload for them waits until this commits.
SELECT from_ts, to_ts FROM sillage.pipeline_dirty WHERE user_id = $1 AND due_at <= $2
FOR UPDATE SKIP LOCKED;

-- name: finish_dirty
DELETE FROM sillage.pipeline_dirty WHERE user_id = $1;

-- name: defer_dirty
-- An open trip remains: look again when its end can be known (a signal gap has elapsed) or
-- sooner if new fixes arrive (mark_dirty sets due_at to now).
UPDATE sillage.pipeline_dirty SET from_ts = $2, to_ts = $3, due_at = $4, failures = 0, updated_at = now()
WHERE user_id = $1;

-- name: retry_later
-- A step failed (and rolled back): try again after a delay that doubles with each failure in a
-- row ($3 seconds, then twice that, ..., at most $4), so that other testers come first meanwhile.
UPDATE sillage.pipeline_dirty
SET due_at = $2::timestamptz + least($3::float8 * power(2, least(failures, 30)), $4::float8) * interval '1 second',
    failures = failures + 1, updated_at = now()
WHERE user_id = $1
RETURNING failures, due_at;

-- name: shown_calibration
-- The calibration every stored section was last mapped with (migration 0029; NULLs: none).
SELECT model_version, slope, intercept FROM sillage.shown_calibration WHERE singleton;

-- name: set_shown_calibration
UPDATE sillage.shown_calibration SET model_version = $1, slope = $2, intercept = $3, applied_at = now()
WHERE singleton;
