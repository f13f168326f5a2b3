-- A tester's stays, trips, sections, confirmed labels, watermark and vehicle profile.
-- Runs inside the tester's partition (their role and search_path).

-- name: pipeline_state
SELECT complete_until, model_version, frozen_before, purposes_places, purposes_named_at, purposes_named_places
FROM pipeline_state WHERE singleton;

-- name: save_pipeline_state
INSERT INTO pipeline_state (
    singleton, complete_until, processed_at, model_version, purposes_places, purposes_named_at,
    purposes_named_places
)
VALUES (true, $1, now(), $2, $3, $4, $5)
ON CONFLICT (singleton) DO UPDATE
SET complete_until = EXCLUDED.complete_until, processed_at = now(), model_version = EXCLUDED.model_version,
    purposes_places = EXCLUDED.purposes_places, purposes_named_at = EXCLUDED.purposes_named_at,
    purposes_named_places = EXCLUDED.purposes_named_places;

-- name: restart_point
-- Where reprocessing must start so that a change at $1 is seen in context: the start of the last
-- stay that ended before it (or nothing: from the first fix). Not the stay the change falls in:
-- late fixes there may show a walk where a gap looked like a stay, and then the trip that arrived
-- at it goes on (restarting at that stay, the trip was kept cut short at a stay that is no more).
-- (started_at <= $1 holds for those stays anyway: it lets the index find the last one.)
-- With it, the last 32 stays and trips begun from its start to $1, oldest first (as two arrays,
-- starts and ends): where a step may start instead, later, is for the pipeline to see (a signal
-- gap between rows, core.segmentation.restart). Only those (a history without stays has a trip
-- per gap), and rows, not fixes: the pipeline reads fixes there only when it may restart there.
WITH stay AS (SELECT max(started_at) AS at FROM stays WHERE started_at <= $1 AND ended_at < $1)
SELECT stay.at AS stay_at, latest.starts, latest.ends
FROM stay, LATERAL (
    SELECT array_agg(r.at ORDER BY r.at, r.until) AS starts,
           array_agg(r.until ORDER BY r.at, r.until) AS ends
    FROM (
        SELECT started_at AS at, ended_at AS until FROM stays
        WHERE started_at >= coalesce(stay.at, '-infinity') AND started_at <= $1
        UNION ALL
        SELECT started_at, ended_at FROM trips
        WHERE started_at >= coalesce(stay.at, '-infinity') AND started_at <= $1
        ORDER BY at DESC LIMIT 32
    ) r
) latest;

-- name: stay_under_way
-- The stored stay under way at $1 (begun at or before it, ended at or after it), the latest if two
-- are: a step that read thinned fixes to get past a long stay gives it this start and id, which the
-- trip kept before it arrives at.
SELECT id, started_at FROM stays WHERE started_at <= $1 AND ended_at >= $1
ORDER BY started_at DESC LIMIT 1;

-- name: last_arrival
-- The stay the last trip begun before $1 arrives at (its id; NULL when it arrives at none).
SELECT destination_stay_id FROM trips WHERE started_at < $1 ORDER BY started_at DESC LIMIT 1;

-- name: trip_under_way
-- Where the stored trip under way at $1 began (begun before it, ended after it; NULL: none): late
-- fixes inside a trip, which a step reading thinned fixes rebuilds from there. Not a flight or a
-- ride across a gap ending at $1, where the stay it arrives at begins.
SELECT max(started_at) FROM trips WHERE started_at < $1 AND ended_at > $1;

-- name: delete_stays_from
-- From $1 on, or only up to $2 when given (a step that read a window of the history).
DELETE FROM stays WHERE started_at >= $1 AND ($2::timestamptz IS NULL OR started_at < $2);

-- name: delete_trips_from
DELETE FROM trips WHERE started_at >= $1 AND ($2::timestamptz IS NULL OR started_at < $2);

-- name: forget_superseded
-- Superseded ids kept more than $1 days, and those a step stores again ($2: the ids of the sections
-- it stores): migration 0034.
DELETE FROM superseded_sections
WHERE replaced_at < now() - make_interval(days => $1) OR id = ANY($2::uuid[]);

-- name: supersede_sections_from
-- The sections of the trips delete_trips_from deletes ($1, $2) that the step does not store again
-- ($3: the ids it stores): their ids, trips and time spans, so that an answer sent with one lands on
-- the time it was about (migration 0034). An id is its trip and span (core.trips.section_id): one
-- kept already is the same section, replaced again.
INSERT INTO superseded_sections (id, trip_id, started_at, ended_at)
SELECT s.id, s.trip_id, s.started_at, s.ended_at
FROM sections s JOIN trips t ON t.id = s.trip_id
WHERE t.started_at >= $1 AND ($2::timestamptz IS NULL OR t.started_at < $2) AND s.id <> ALL($3::uuid[])
ON CONFLICT (id) DO UPDATE SET replaced_at = now();

-- name: context_from
-- Where a step restarting at $1 reads from: $2 seconds before it (cleaning's choice between
-- trackers compares windows that reach back there), or earlier to take the $3 fixes before it
-- (the excursion rule judges a jump by the segment before it: a tracker logging every 90 s left 2
-- fixes in 180 s), whichever is earlier. least() passes over the NULL of a history that begins at $1.
SELECT least($1::timestamptz - make_interval(secs => $2),
             (SELECT min(ts) FROM (SELECT ts FROM fixes WHERE ts < $1 ORDER BY ts DESC LIMIT $3) b));

-- name: fixes_from
-- At most $2 fixes from $1 on (a pipeline step is bounded; the next step continues).
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM fixes WHERE ts >= $1 ORDER BY ts LIMIT $2;

-- name: fixes_from_thinned
-- At most $2 fixes from $1 on, the first of each $3-second bucket among the next $4 fixes: a step
-- whose window ends inside a stay longer than the window reaches past it at a coarser sampling.
-- Buckets are counted from $5, the step's restart point (a stay's first fix): that fix is kept, so
-- the stay rebuilt from the thinned fixes starts where the stored one does, and replaces it
-- (counted from 1970, the stay started at the next bucket's first fix, seconds late, and the
-- stored stay was kept beside it, overlapping).
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM (
    SELECT DISTINCT ON (floor(extract(epoch FROM f.ts - $5::timestamptz) / $3::float8)) f.*
    FROM (SELECT * FROM fixes WHERE ts >= $1 ORDER BY ts LIMIT $4) f
    ORDER BY floor(extract(epoch FROM f.ts - $5::timestamptz) / $3::float8), f.ts
) t
ORDER BY ts LIMIT $2;

-- name: fixes_around
-- The $2 fixes before $1 and the $2 from $1 on, with every fix within $3 seconds beyond them (the
-- context cleaning's choice between trackers reads): what core.segmentation.restart judges.
SELECT ts, lat, lon, accuracy_m, altitude_m, speed_mps, bearing_deg, activity, battery, source
FROM fixes
WHERE ts >= (SELECT min(ts) FROM (SELECT ts FROM fixes WHERE ts < $1 ORDER BY ts DESC LIMIT $2) b)
             - make_interval(secs => $3)
  AND ts <= (SELECT max(ts) FROM (SELECT ts FROM fixes WHERE ts >= $1 ORDER BY ts LIMIT $2) a)
             + make_interval(secs => $3)
ORDER BY ts;

-- name: deleted_trips_from
-- The intervals of trips the tester deleted that end at or after $1 (migration 0019).
SELECT started_at, ended_at FROM deleted_trips WHERE ended_at >= $1;

-- name: labels_from
-- Oldest first: of two answers about the same time, the later one decides (core.trips).
SELECT started_at, ended_at, mode FROM labels WHERE ended_at >= $1 ORDER BY created_at, id;

-- name: forget_earlier_labels
-- A new answer about a section replaces the tester's earlier answers about it (the same section,
-- or a time within it): one confirmation per section for history and the research export.
DELETE FROM labels WHERE section_id = $3 OR (started_at >= $1 AND ended_at <= $2);

-- name: insert_stay
INSERT INTO stays (id, started_at, ended_at, lat, lon, n_fixes) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (id) DO UPDATE SET ended_at = EXCLUDED.ended_at, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
    n_fixes = EXCLUDED.n_fixes;

-- name: insert_trip
INSERT INTO trips (id, started_at, ended_at, origin_lat, origin_lon, destination_lat, destination_lon,
                   origin_stay_id, destination_stay_id, distance_m)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: insert_section
INSERT INTO sections (id, trip_id, seq, started_at, ended_at, distance_m, n_fixes, mode, probabilities,
                      mode_source, model_version, geometry, co2_kg, co2_factor, co2_registry,
                      model_probabilities, kinematics, uncalibrated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::jsonb, $13, $14, $15, $16::jsonb,
        $17::real[], $18);

-- name: recent_model_probabilities
-- The model's own probabilities of the tester's $2 most recent sections that started before $1,
-- newest first: the tester's mix of modes read without any label (core.history.usual_modes).
SELECT model_probabilities::text AS p FROM sections
WHERE started_at < $1 AND model_probabilities IS NOT NULL
ORDER BY started_at DESC LIMIT $2;

-- name: vehicle_profile
SELECT vehicle FROM profile WHERE singleton;

-- name: trips_json
-- Trips overlapping [$2, $3) (or the one trip $1), newest first, with their sections as JSON;
-- hidden ones only if $5. A section is to confirm (sillage.section_to_confirm, migrations 0024 and
-- 0028) when the tester has not confirmed it and its mode's probability is below $6
-- (core.history.ASK_BELOW), or it is among the share $8 of sections drawn for audit; with $7, only
-- trips with such a section.
SELECT t.id, t.started_at, t.ended_at, t.origin_lat, t.origin_lon, t.destination_lat, t.destination_lon,
       t.distance_m, t.purpose, t.hidden,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
           'id', s.id, 'seq', s.seq, 'started_at', s.started_at, 'ended_at', s.ended_at,
           'distance_m', s.distance_m, 'mode', s.mode, 'mode_source', s.mode_source,
           'probabilities', s.probabilities, 'co2_kg', s.co2_kg, 'geometry', s.geometry,
           'n_fixes', s.n_fixes,
           'to_confirm', sillage.section_to_confirm(s.id, s.mode_source, s.probabilities, s.mode, $6, $8))
           ORDER BY s.seq)
         FROM sections s WHERE s.trip_id = t.id), '[]'::jsonb)::text AS sections
FROM trips t
WHERE ($1::uuid IS NULL OR t.id = $1) AND t.ended_at > $2 AND t.started_at < $3 AND (NOT t.hidden OR $5)
  AND (NOT $7 OR EXISTS (
      SELECT 1 FROM sections s
      WHERE s.trip_id = t.id AND sillage.section_to_confirm(s.id, s.mode_source, s.probabilities, s.mode, $6, $8)))
ORDER BY t.started_at DESC
LIMIT $4;

-- name: get_section
-- A section of a trip the tester has not hidden (GET /v1/trips/{id} shows none of a hidden one),
-- its trip held until the transaction ends, as unconfirmed_sections holds it.
SELECT s.id, s.trip_id, s.started_at, s.ended_at, s.distance_m, s.mode, s.occupants, s.co2_kg
FROM sections s JOIN trips t ON t.id = s.trip_id
WHERE s.id = $1 AND NOT t.hidden
FOR SHARE OF t;

-- name: superseded_section
-- Of the sections shown now (of trips not hidden, as get_section), the one that overlaps most the
-- time span superseded id $1 had (migration 0034); NULLs when none does. Its trip is held as
-- get_section holds it. No row for an id the tester never had, or forgot (forget_superseded).
SELECT s.id, s.trip_id, s.started_at, s.ended_at, s.distance_m, s.mode, s.occupants, s.co2_kg
FROM superseded_sections o
LEFT JOIN LATERAL (
    SELECT s.*
    FROM sections s JOIN trips t ON t.id = s.trip_id
    WHERE s.started_at < o.ended_at AND s.ended_at > o.started_at AND NOT t.hidden
    ORDER BY least(s.ended_at, o.ended_at) - greatest(s.started_at, o.started_at) DESC, s.started_at
    LIMIT 1
    FOR SHARE OF t
) s ON true
WHERE o.id = $1;

-- name: unconfirmed_sections
-- The sections of trip $1 the tester has not confirmed, in order: what "looks right" confirms. One
-- row of NULLs when the trip is shown (as trips_json shows it: not hidden) with every section
-- confirmed; no row when there is no such trip. The trip is held until the transaction ends: a hide
-- under way is waited for (then no row), and one asked for meanwhile waits until the answers are kept
-- (else they were kept for a trip hidden between this read and the answer sent back).
SELECT s.id, s.trip_id, s.started_at, s.ended_at, s.distance_m, s.mode, s.occupants, s.co2_kg
FROM trips t LEFT JOIN sections s ON s.trip_id = t.id AND s.mode_source <> 'user'
WHERE t.id = $1 AND NOT t.hidden
ORDER BY s.seq
FOR SHARE OF t;

-- name: insert_label
-- The confirmation keeps where its section started and ended and the path between (its stored
-- geometry's positions, the parts of a MultiLineString cut at the antimeridian laid end to end;
-- NULL when it has none, and the label is still kept), the section's kinematics, and the mode the
-- section showed with its probability, that probability before calibration (the shown one when
-- none applied) and the model version that gave it (all NULL when it showed the tester's own
-- earlier answer), and why it was to confirm with ask_below $5 and audit share $6 (NULL when it was
-- not): run before the section takes the confirmed mode.
INSERT INTO labels (started_at, ended_at, mode, section_id, start_lat, start_lon, end_lat, end_lon, path,
                    kinematics, shown_mode, shown_probability, shown_uncalibrated, shown_model_version,
                    asked, audit_share)
SELECT v.started_at, v.ended_at, v.mode, v.section_id,
       (p.path #>> '{0,1}')::float8, (p.path #>> '{0,0}')::float8,
       (p.path #>> '{-1,1}')::float8, (p.path #>> '{-1,0}')::float8,
       p.path, s.kinematics,
       CASE WHEN s.mode_source <> 'user' THEN s.mode END,
       CASE WHEN s.mode_source <> 'user' THEN least(greatest((s.probabilities ->> s.mode)::real, 0), 1) END,
       CASE WHEN s.mode_source <> 'user'
            THEN coalesce(s.uncalibrated, least(greatest((s.probabilities ->> s.mode)::real, 0), 1)) END,
       CASE WHEN s.mode_source <> 'user' THEN s.model_version END,
       CASE WHEN NOT sillage.section_to_confirm(s.id, s.mode_source, s.probabilities, s.mode, $5, $6) THEN NULL
            WHEN coalesce((s.probabilities ->> s.mode)::float8, 0) < $5 THEN 'unsure'
            ELSE 'audit' END,
       CASE WHEN sillage.section_to_confirm(s.id, s.mode_source, s.probabilities, s.mode, $5, $6)
             AND coalesce((s.probabilities ->> s.mode)::float8, 0) >= $5 THEN $6::real END
FROM (VALUES ($1::timestamptz, $2::timestamptz, $3::text, $4::uuid)) v (started_at, ended_at, mode, section_id)
LEFT JOIN sections s ON s.id = v.section_id
LEFT JOIN LATERAL (
    SELECT CASE WHEN s.geometry ->> 'type' = 'MultiLineString' THEN (
        SELECT jsonb_agg(q.position ORDER BY l.i, q.j)
        FROM jsonb_array_elements(s.geometry -> 'coordinates') WITH ORDINALITY l (line, i),
             jsonb_array_elements(l.line) WITH ORDINALITY q (position, j)
    ) ELSE s.geometry -> 'coordinates' END AS path
) p ON true;

-- name: set_section_mode
-- The probabilities say what the tester confirmed (1 for it, 0 for the others); the model's own
-- stay in model_probabilities.
UPDATE sections SET mode = $2, mode_source = 'user', co2_kg = $3, co2_factor = $4, co2_registry = $5,
    probabilities = coalesce((SELECT jsonb_object_agg(key, 0) FROM jsonb_each(probabilities)), '{}')
                    || jsonb_build_object($2::text, 1)
WHERE id = $1;

-- name: confirmations
-- The tester's $1 most recent confirmations (the latest per section), oldest first, with where each
-- confirmed section started and ended, its kinematics (NULL if confirmed before 0026), the mode it
-- showed and its probability (NULL before 0027), and the path of the $2 most recent ([lon, lat]
-- pairs; NULL beyond them, and for labels confirmed before paths were kept whose section and fixes
-- were both gone): the evidence of core.history. Paths are most of the bytes, so only those the history looks
-- along are read, by id once the labels are chosen (carried through the sort instead, they made the
-- query about 1.5 times slower).
SELECT recent.mode, recent.start_lat, recent.start_lon, recent.end_lat, recent.end_lon, recent.kinematics,
       recent.shown_mode, recent.shown_probability,
       (SELECT l.path::text FROM labels l WHERE l.id = recent.id AND recent.recency <= $2) AS path
FROM (
    SELECT *, row_number() OVER (ORDER BY created_at DESC) AS recency FROM (
        SELECT DISTINCT ON (coalesce(section_id, id)) id, mode, start_lat, start_lon, end_lat, end_lon,
               kinematics, shown_mode, shown_probability, created_at
        FROM labels WHERE start_lat IS NOT NULL AND end_lat IS NOT NULL
        ORDER BY coalesce(section_id, id), created_at DESC
    ) latest ORDER BY created_at DESC LIMIT $1
) recent ORDER BY recent.created_at;

-- name: shown_sections
-- The sections whose probabilities the pipeline gave (not a tester's answer), with their most likely
-- mode's probability before calibration (NULL when none applied) and the model that gave them: what
-- `sillage pipeline recalibrate` maps again.
SELECT id, probabilities::text AS p, uncalibrated::numeric::float8 AS uncalibrated, model_version
FROM sections WHERE mode_source <> 'user';

-- name: set_shown_probabilities
-- A section's probabilities as now shown, and its most likely mode's before calibration (NULL: none
-- applies). The mode stays: calibration never changes it.
UPDATE sections SET probabilities = $2::jsonb, uncalibrated = $3 WHERE id = $1;
