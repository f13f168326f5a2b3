-- A confirmation keeps the path of the section it confirmed, so that a later section along part of
-- that path is recognised (`core.history`, matching along a route), not only one with the same two
-- ends.
--
-- * `labels.path` holds the confirmed section's simplified geometry (the GeoJSON coordinates,
--   [lon, lat] pairs, of `sections.geometry`: Douglas-Peucker within 10 m). It is the tester's own
--   data like the fixes it was drawn from: exported with the labels, deleted with them.
-- * Labels confirmed before this migration take the path of their section when that section is
--   still stored; otherwise the path of the fixes over their interval, thinned to about 200 points
--   (not simplified like a section's geometry, and as good for matching within 300 m). A label
--   with neither keeps matching by its ends only.
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011).

SELECT sillage.add_partition_step('label_paths', 70, $ddl$
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS path jsonb
        CHECK (path IS NULL OR jsonb_typeof(path) = 'array');
    UPDATE %1$I.labels l SET path = s.geometry -> 'coordinates'
    FROM %1$I.sections s
    WHERE s.id = l.section_id AND l.path IS NULL AND jsonb_typeof(s.geometry -> 'coordinates') = 'array';
    UPDATE %1$I.labels l SET path = p.path
    FROM %1$I.labels k
    CROSS JOIN LATERAL (
        SELECT jsonb_agg(jsonb_build_array(round(f.lon::numeric, 6), round(f.lat::numeric, 6)) ORDER BY f.ts)
            AS path
        FROM (
            SELECT ts, lat, lon, row_number() OVER (ORDER BY ts) AS rn, count(*) OVER () AS n
            FROM %1$I.fixes WHERE ts >= k.started_at AND ts <= k.ended_at
        ) f
        WHERE mod(f.rn - 1, greatest(1, ceil(f.n / 200.0)::int)) = 0 OR f.rn = f.n
    ) p
    WHERE k.id = l.id AND l.path IS NULL AND jsonb_array_length(p.path) >= 2;
$ddl$);
