-- A tester's fixes. These statements run inside the tester's partition: the transaction has done
-- `SET LOCAL ROLE <tester>` and `SET LOCAL search_path = <tester>, public`, so `fixes` is theirs.

-- name: insert_fixes
-- Stores a batch; returns the timestamps actually stored (the others were already there).
INSERT INTO fixes (ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source)
SELECT * FROM unnest(
    $1::timestamptz[], $2::float8[], $3::float8[], $4::real[], $5::real[], $6::real[], $7::real[],
    $8::text[], $9::real[], $10::text[])
ON CONFLICT (ts) DO NOTHING
RETURNING ts;

-- name: mark_my_dirty
-- Widen this tester's reprocessing range (SECURITY DEFINER; the tester is current_user).
SELECT sillage.mark_my_dirty($1, $2);

-- name: fixes_between
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM fixes WHERE ts >= $1 AND ts < $2 ORDER BY ts;

-- name: count_fixes
SELECT count(*) FROM fixes;
