-- The incremental pipeline's queue (shared schema).

-- name: mark_dirty
INSERT INTO sillage.pipeline_dirty AS d (user_id, from_ts, to_ts) VALUES ($1, $2, $3)
ON CONFLICT (user_id) DO UPDATE
SET from_ts = least(d.from_ts, EXCLUDED.from_ts),
    to_ts = greatest(d.to_ts, EXCLUDED.to_ts),
    updated_at = now(),
    due_at = now();

-- name: dirty_range
SELECT from_ts, to_ts, updated_at FROM sillage.pipeline_dirty WHERE user_id = $1;
