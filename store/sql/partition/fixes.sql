-- A tester's fixes. These statements run inside the tester's partition: the transaction has done
-- `SET LOCAL ROLE <tester>` and `SET LOCAL search_path = <tester>, public`, so `fixes` is theirs.

-- name: insert_fixes
-- Stores a batch and widens this tester's reprocessing range to the fixes it may store, in one
-- statement; returns the timestamps actually stored (the others were already there).
-- One fix per instant: a time repeated within the batch keeps its first fix. Where another
-- tracker's fix is stored at that instant, the one whose source sorts first is kept, whichever
-- arrived first, so that the stored track (and the trips built from it) does not depend on the
-- order in which two trackers' uploads arrive; a retried upload (the same source) changes nothing
-- and marks nothing.
-- The range is marked *before* any fix is written, as the COPY lane does (`sillage.enter_device`,
-- or `mark_my_dirty_us` riding with its BEGIN): every upload of a tester locks their
-- `pipeline_dirty` row first, then fixes, so two overlapping batches wait for each other instead
-- of deadlocking. The insert's source reads `marked` through an uncorrelated sub-query, which
-- PostgreSQL evaluates once before the insert's first row. The range comes from this statement's
-- snapshot: a fix another batch stores meanwhile can only make it wider than needed, never narrower.
-- A fix that replaces another marks the range from a microsecond before its instant: the change is
-- there, and what a segmentation began at that instant, on the fix it replaces, is no evidence of
-- where a step may restart (the pipeline restarts only where an item began before the change, even
-- the open tail at the watermark: core.segmentation.restart).
WITH batch AS (
    SELECT DISTINCT ON (ts) ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
    FROM unnest(
        $1::timestamptz[], $2::float8[], $3::float8[], $4::real[], $5::real[], $6::real[], $7::real[],
        $8::text[], $9::real[], $10::text[]
    ) WITH ORDINALITY AS u (ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source, k)
    ORDER BY ts, k
), marked AS (
    SELECT sillage.mark_my_dirty(
        min(b.ts - CASE WHEN f.ts IS NULL THEN interval '0' ELSE interval '1 microsecond' END), max(b.ts))
    FROM batch b LEFT JOIN fixes f ON f.ts = b.ts
    WHERE f.ts IS NULL OR b.source < f.source
    HAVING count(*) > 0
)
INSERT INTO fixes AS f (ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source)
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM batch WHERE (SELECT count(*) FROM marked) >= 0
ORDER BY ts
ON CONFLICT (ts) DO UPDATE
SET (lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source) = (
    EXCLUDED.lat, EXCLUDED.lon, EXCLUDED.accuracy_m, EXCLUDED.altitude_m, EXCLUDED.speed_mps,
    EXCLUDED.bearing_deg, EXCLUDED.activity, EXCLUDED.battery, EXCLUDED.source)
WHERE EXCLUDED.source < f.source
RETURNING ts;

-- name: mark_my_dirty
-- Widen this tester's reprocessing range (SECURITY DEFINER; the tester is current_user).
SELECT sillage.mark_my_dirty($1, $2);

-- name: mark_my_dirty_us
-- The same, from microseconds since 1970 (integers). store.fixes writes the two numbers into the
-- text so that it can travel with the BEGIN of the COPY lane's transaction (one round trip less).
SELECT sillage.mark_my_dirty(
    timestamptz 'epoch' + $1::bigint * interval '1 microsecond',
    timestamptz 'epoch' + $2::bigint * interval '1 microsecond');

-- name: fixes_between
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM fixes WHERE ts >= $1 AND ts < $2 ORDER BY ts;
