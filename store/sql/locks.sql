-- Session-level advisory locks, each serialising one job across processes (`store/locks.py`),
-- keyed by the hash of a name: 'sillage.release', 'sillage.carpool', 'sillage.recalibrate'.

-- name: lock
SELECT pg_advisory_lock(hashtext($1));

-- name: try_lock
SELECT pg_try_advisory_lock(hashtext($1));

-- name: unlock
SELECT pg_advisory_unlock(hashtext($1));
