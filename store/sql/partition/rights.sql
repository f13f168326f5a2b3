-- Testers' rights inside the tester's partition (their role and search_path): export, deletion
-- of trips and time ranges, hiding trips, retention.

-- name: partition_relations
-- The tables of this partition (not the chunks of its hypertables, read through the hypertable),
-- including those later features add through sillage.partition_steps.
SELECT c.oid, n.nspname AS schema, c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema()
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY c.relname;

-- name: trip_bounds
-- With whether something else ends where it starts, or begins where it ends: a flight or a ride
-- across a signal gap shares its first and last fixes with the stays or trips on either side
-- (core.segmentation.flights), or with the open tail the pipeline has not stored yet, which
-- begins at the watermark (else deleting such a ride before the trip after it was stored deleted
-- that trip's first fix, which one pass keeps).
SELECT t.started_at, t.ended_at,
       EXISTS (SELECT 1 FROM trips o WHERE o.id <> t.id AND o.ended_at = t.started_at)
         OR EXISTS (SELECT 1 FROM stays s WHERE s.ended_at = t.started_at) AS shares_start,
       EXISTS (SELECT 1 FROM trips o WHERE o.id <> t.id AND o.started_at = t.ended_at)
         OR EXISTS (SELECT 1 FROM stays s WHERE s.started_at = t.ended_at)
         OR EXISTS (SELECT 1 FROM pipeline_state p WHERE p.complete_until = t.ended_at) AS shares_end
FROM trips t WHERE t.id = $1;

-- name: delete_fixes
-- [$1, $2)
WITH d AS (DELETE FROM fixes WHERE ts >= $1 AND ts < $2 RETURNING 1) SELECT count(*) FROM d;

-- name: delete_trips_overlapping
-- Trips (and their sections) derived from any fix of [$1, $2).
WITH d AS (DELETE FROM trips WHERE started_at < $2 AND ended_at >= $1 RETURNING 1) SELECT count(*) FROM d;

-- name: delete_stays_overlapping
WITH d AS (DELETE FROM stays WHERE started_at < $2 AND ended_at >= $1 RETURNING 1) SELECT count(*) FROM d;

-- name: delete_labels_overlapping
-- A confirmation cut by the range goes whole: it holds where its section began and ended, and the
-- path between (migration 0014), which may be the very places the tester deleted.
WITH d AS (DELETE FROM labels WHERE started_at < $2 AND ended_at >= $1 RETURNING 1) SELECT count(*) FROM d;

-- name: delete_superseded_overlapping
-- The ids of sections a step replaced (migration 0034) go with the trips, like the sections.
DELETE FROM superseded_sections WHERE started_at < $2 AND ended_at >= $1;

-- name: delete_hidden_within
-- Only intervals inside the range: a hidden trip cut by it keeps what remains of it hidden.
WITH d AS (DELETE FROM hidden_trips WHERE started_at >= $1 AND ended_at < $2 RETURNING 1)
SELECT count(*) FROM d;

-- name: remember_deleted
INSERT INTO deleted_trips (started_at, ended_at) VALUES ($1, $2);

-- name: hide_trip
-- with whether it was hidden already
UPDATE trips t SET hidden = true FROM (SELECT id, hidden FROM trips WHERE id = $1 FOR UPDATE) o
WHERE t.id = o.id RETURNING t.started_at, t.ended_at, o.hidden AS was_hidden;

-- name: remember_hidden
INSERT INTO hidden_trips (started_at, ended_at)
SELECT $1, $2
WHERE NOT EXISTS (SELECT 1 FROM hidden_trips h WHERE (h.started_at < $2 AND h.ended_at > $1)
                                                 OR (h.started_at = $1 AND h.ended_at = $2));

-- name: unhide_trip
UPDATE trips t SET hidden = false FROM (SELECT id, hidden FROM trips WHERE id = $1 FOR UPDATE) o
WHERE t.id = o.id RETURNING t.started_at, t.ended_at, o.hidden AS was_hidden;

-- name: forget_hidden
-- The intervals this trip overlaps for some time (not those of trips it only touches, 0020); how many.
WITH d AS (
    DELETE FROM hidden_trips WHERE (started_at < $2 AND ended_at > $1) OR (started_at = $1 AND ended_at = $2)
    RETURNING 1
)
SELECT count(*) FROM d;

-- name: fixes_before
WITH d AS (DELETE FROM fixes WHERE ts < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: freeze_before
-- The fixes before $1 are gone: derived rows that began before it cannot be rebuilt. The
-- rebuildable part begins at the first stay or trip that began at or after $1, else at the end
-- of the one going on at $1, else at $1; it only moves forward.
INSERT INTO pipeline_state (singleton, frozen_before)
VALUES (true, coalesce(
    (SELECT min(started_at) FROM (SELECT started_at FROM stays WHERE started_at >= $1
                                  UNION ALL SELECT started_at FROM trips WHERE started_at >= $1) d),
    (SELECT max(ended_at) FROM (SELECT ended_at FROM stays WHERE started_at < $1 AND ended_at >= $1
                                UNION ALL SELECT ended_at FROM trips WHERE started_at < $1 AND ended_at >= $1) o),
    $1))
ON CONFLICT (singleton) DO UPDATE
SET frozen_before = greatest(pipeline_state.frozen_before, EXCLUDED.frozen_before);

-- name: trips_before
WITH d AS (DELETE FROM trips WHERE ended_at < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: stays_before
WITH d AS (DELETE FROM stays WHERE ended_at < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: labels_before
WITH d AS (DELETE FROM labels WHERE ended_at < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: superseded_before
DELETE FROM superseded_sections WHERE ended_at < $1;

-- name: hidden_before
WITH d AS (DELETE FROM hidden_trips WHERE ended_at < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: deleted_trips_before
WITH d AS (DELETE FROM deleted_trips WHERE ended_at < $1 RETURNING 1) SELECT count(*) FROM d;

-- name: geojson_fixes
SELECT json_build_object(
    'type', 'Feature',
    'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(lon, lat)),
    'properties', json_build_object(
        'kind', 'fix', 'ts', to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'accuracy_m', accuracy_m, 'altitude_m', altitude_m, 'speed_mps', speed_mps,
        'bearing_deg', bearing_deg, 'activity', activity, 'battery', battery, 'source', source))::text
FROM fixes ORDER BY ts;

-- name: geojson_sections
SELECT json_build_object(
    'type', 'Feature',
    'geometry', s.geometry,
    'properties', json_build_object(
        'kind', 'section', 'trip_id', t.id, 'seq', s.seq,
        'started_at', to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'ended_at', to_char(s.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'distance_m', s.distance_m, 'mode', s.mode, 'mode_source', s.mode_source,
        'co2_kg', s.co2_kg, 'co2_factor', s.co2_factor, 'occupants', s.occupants,
        'trip_hidden', t.hidden, 'trip_purpose', t.purpose))::text
FROM sections s JOIN trips t ON t.id = s.trip_id
ORDER BY s.started_at, s.seq;

-- name: geojson_stays
SELECT json_build_object(
    'type', 'Feature',
    'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(lon, lat)),
    'properties', json_build_object(
        'kind', 'stay',
        'started_at', to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'ended_at', to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'n_fixes', n_fixes))::text
FROM stays ORDER BY started_at;

-- name: gpx_waypoints
-- Stays as GPX waypoints (GPX 1.1 puts every <wpt> before the track). Coordinates and elevations
-- as numeric: GPX types them xsd:decimal, which has no exponent (a float prints 1e-05 near 0);
-- through text, which keeps every digit of the float (a cast to numeric keeps 15).
SELECT format('<wpt lat="%s" lon="%s"><time>%s</time><name>stay</name><desc>until %s</desc></wpt>',
              lat::text::numeric, lon::text::numeric, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
              to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
FROM stays ORDER BY started_at;

-- name: gpx_points
-- Raw fixes as track points, one <trkseg> per UTC day (the caller opens the first one).
SELECT CASE WHEN lag(ts) OVER w IS NOT NULL
                 AND date_trunc('day', lag(ts) OVER w AT TIME ZONE 'UTC') <> date_trunc('day', ts AT TIME ZONE 'UTC')
            THEN '</trkseg><trkseg>' ELSE '' END
       || format('<trkpt lat="%s" lon="%s">%s<time>%s</time></trkpt>', lat::text::numeric, lon::text::numeric,
                 CASE WHEN altitude_m IS NULL THEN '' ELSE format('<ele>%s</ele>', altitude_m::text::numeric) END,
                 to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
FROM fixes WINDOW w AS (ORDER BY ts) ORDER BY ts;
