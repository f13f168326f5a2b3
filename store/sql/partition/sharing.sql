-- What a release reads from one tester's partition (their role and search_path): the trips of
-- the period that the tester did not hide, with their sections' modes, distances and CO2.

-- name: period_trips
SELECT t.id, t.started_at, t.origin_lat, t.origin_lon, t.destination_lat, t.destination_lon, t.distance_m,
       coalesce(jsonb_agg(jsonb_build_array(s.mode, s.distance_m, s.co2_kg) ORDER BY s.seq)
                FILTER (WHERE s.id IS NOT NULL), '[]'::jsonb)::text AS sections
FROM trips t LEFT JOIN sections s ON s.trip_id = t.id
WHERE t.started_at >= $1 AND t.started_at < $2 AND NOT t.hidden
GROUP BY t.id
ORDER BY t.started_at;
