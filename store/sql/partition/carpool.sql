-- Carpool offers, written from inside a tester's partition (their role and search_path).
-- `sillage.carpool_offers` is shared, but row-level security lets a tester role see and write only
-- its own rows (user_id = the id embedded in the role name).

-- name: sections_since
-- The tester's sections from $1 on, with their trip's ends (door to door).
SELECT s.id, s.trip_id, s.started_at, s.ended_at, s.mode, s.distance_m, coalesce(s.co2_kg, 0) AS co2_kg,
       s.occupants, t.origin_lat, t.origin_lon, t.destination_lat, t.destination_lon, t.purpose
FROM sections s JOIN trips t ON t.id = s.trip_id
WHERE s.started_at >= $1 AND NOT t.hidden
ORDER BY s.started_at, s.seq;

-- name: stays_since
SELECT started_at, ended_at, lat, lon FROM stays WHERE ended_at >= $1 ORDER BY started_at;

-- name: my_offers
SELECT seq, origin_lat, origin_lon, destination_lat, destination_lon, depart_from_min, depart_to_min,
       weekdays, distance_m, usual_co2_kg, usual_mode, can_drive, car_kg_per_km
FROM sillage.carpool_offers WHERE user_id = sillage.role_user_id(current_user) ORDER BY seq;

-- name: delete_my_offers
DELETE FROM sillage.carpool_offers WHERE user_id = sillage.role_user_id(current_user);

-- name: insert_my_offer
INSERT INTO sillage.carpool_offers (user_id, seq, origin_lat, origin_lon, destination_lat, destination_lon,
                                    depart_from_min, depart_to_min, weekdays, distance_m, usual_co2_kg,
                                    usual_mode, can_drive, car_kg_per_km, computed_at)
VALUES (sillage.role_user_id(current_user), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14);

-- name: set_section_occupants
UPDATE sections SET occupants = $2, co2_kg = $3, co2_factor = $4, co2_registry = $5 WHERE id = $1;
