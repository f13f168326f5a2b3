-- Coaching reads and writes inside a tester's partition (their role and search_path).

-- name: coaching_sections
-- The sections of visible trips starting in [$1, $2), oldest first, with their trip's ends and
-- purpose (coaching reads a section's place as its trip's: only trips' ends are compared), and
-- whether each is to confirm (sillage.section_to_confirm, as trips_json says, audit share $4; never
-- when $3 is NULL).
SELECT s.id, s.trip_id, s.started_at, s.ended_at, s.mode, s.distance_m, s.occupants,
       coalesce(s.co2_kg, 0) AS co2_kg, t.purpose,
       t.origin_lat, t.origin_lon, t.destination_lat, t.destination_lon,
       sillage.section_to_confirm(s.id, s.mode_source, s.probabilities, s.mode, $3, $4) AS to_confirm
FROM sections s JOIN trips t ON t.id = s.trip_id
WHERE s.started_at >= $1 AND s.started_at < $2 AND NOT t.hidden
ORDER BY s.started_at, s.seq;

-- name: first_data
-- When the tester's record begins: their earliest trip or stay (what retention left).
SELECT least((SELECT min(started_at) FROM trips), (SELECT min(started_at) FROM stays));

-- name: coaching_stays
SELECT started_at, ended_at, lat, lon FROM stays WHERE started_at >= $1 AND started_at < $2
ORDER BY started_at;

-- name: footprint_inputs
-- Every section with what its footprint depends on, for recomputation.
SELECT id, mode, distance_m, occupants FROM sections;

-- name: footprint_inputs_not_at
-- The sections whose footprint was not computed with registry $1.
SELECT id, mode, distance_m, occupants FROM sections WHERE co2_registry IS DISTINCT FROM $1;

-- name: set_footprints
UPDATE sections s
SET co2_kg = u.kg, co2_factor = u.factor, co2_registry = u.registry
FROM unnest($1::uuid[], $2::float8[], $3::text[], $4::text[]) AS u (id, kg, factor, registry)
WHERE s.id = u.id;

-- name: save_vehicle_profile
INSERT INTO profile (singleton, vehicle, updated_at) VALUES (true, $1::jsonb, now())
ON CONFLICT (singleton) DO UPDATE SET vehicle = EXCLUDED.vehicle, updated_at = now();

-- name: confirmed_places
SELECT kind, lat, lon, updated_at FROM places;

-- name: confirm_place
INSERT INTO places (kind, lat, lon, updated_at) VALUES ($1, $2, $3, now())
ON CONFLICT (kind) DO UPDATE SET lat = EXCLUDED.lat, lon = EXCLUDED.lon, updated_at = now();

-- name: forget_place
DELETE FROM places WHERE kind = $1;

-- name: trip_ends
-- Visible and hidden trips alike: a purpose is a property of the trip, whoever looks. Those started
-- from $1 up to $2 (NULL: no end).
SELECT id, origin_lat, origin_lon, destination_lat, destination_lon, purpose FROM trips
WHERE started_at >= $1 AND ($2::timestamptz IS NULL OR started_at <= $2);

-- name: set_purposes
UPDATE trips t SET purpose = u.purpose
FROM unnest($1::uuid[], $2::text[]) AS u (id, purpose)
WHERE t.id = u.id AND t.purpose IS DISTINCT FROM u.purpose;

-- name: goal
SELECT yearly_budget_kg, updated_at FROM goal WHERE singleton;

-- name: save_goal
INSERT INTO goal (singleton, yearly_budget_kg, updated_at) VALUES (true, $1, now())
ON CONFLICT (singleton) DO UPDATE SET yearly_budget_kg = EXCLUDED.yearly_budget_kg, updated_at = now();

-- name: forget_goal
DELETE FROM goal WHERE singleton;
