-- Carpool matching (shared `sillage` schema, as the API login). A tester takes part while their
-- `carpool_matching` consent is granted and not revoked: every statement that shows something
-- re-reads it, so a revocation takes effect at once, for both sides of every match.

-- name: consenting_testers
SELECT u.id, u.role_name
FROM sillage.users u
JOIN sillage.consents c ON c.user_id = u.id AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL
ORDER BY u.id;

-- name: consents_to_matching
SELECT EXISTS (SELECT 1 FROM sillage.consents
               WHERE user_id = $1 AND purpose = 'carpool_matching' AND revoked_at IS NULL);

-- name: withdraw_matches
-- The proposals that involve tester $1, until the next run proposes again what the offers support
-- (answers stay, kept by match id: a match proposed again comes back with them).
DELETE FROM sillage.carpool_matches WHERE user_low = $1 OR user_high = $1;

-- name: leave_matching
-- Tester $1 revoked their consent to matching: their offers, the proposals that involve them and
-- the yes they gave go at once (a yes is given to a match while one takes part; granting the
-- consent again starts afresh). Their declines and blocks stay: they protect them from partners.
-- (The yes through migration 0031's function: the API's login cannot delete answers.)
WITH offers AS (DELETE FROM sillage.carpool_offers WHERE user_id = $1),
     proposals AS (DELETE FROM sillage.carpool_matches WHERE user_low = $1 OR user_high = $1)
SELECT sillage.forget_interest($1);

-- name: declared_can_drive
SELECT can_drive FROM sillage.carpool_profiles WHERE user_id = $1;

-- name: purge_offers_without_consent
DELETE FROM sillage.carpool_offers o
WHERE NOT EXISTS (SELECT 1 FROM sillage.consents c
                  WHERE c.user_id = o.user_id AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL);

-- name: consented_offers
SELECT o.user_id, o.seq, o.origin_lat, o.origin_lon, o.destination_lat, o.destination_lon,
       o.depart_from_min, o.depart_to_min, o.weekdays, o.distance_m, o.usual_co2_kg, o.usual_mode,
       o.can_drive, o.car_kg_per_km
FROM sillage.carpool_offers o
JOIN sillage.consents c ON c.user_id = o.user_id AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL
ORDER BY o.user_id, o.seq;

-- name: excluded_matches
SELECT DISTINCT match_id FROM sillage.carpool_responses WHERE response IN ('declined', 'blocked');

-- name: clear_matches
DELETE FROM sillage.carpool_matches;

-- name: insert_match
INSERT INTO sillage.carpool_matches (id, user_low, user_high, legs, computed_at)
VALUES ($1, $2, $3, $4::jsonb, $5);

-- name: visible_matches
-- The matches of tester $1 (or the one match $2) that both testers consent to and neither
-- declined or blocked. The partner's chosen name and contact only when both said yes.
WITH mine AS (
    SELECT m.id, m.legs, m.computed_at, m.user_low = $1 AS i_am_low,
           CASE WHEN m.user_low = $1 THEN m.user_high ELSE m.user_low END AS partner
    FROM sillage.carpool_matches m
    WHERE (m.user_low = $1 OR m.user_high = $1) AND ($2::uuid IS NULL OR m.id = $2)
)
SELECT mine.id, mine.legs::text AS legs, mine.i_am_low, mine.computed_at,
       r_me.response AS my_response,
       coalesce(r_me.response = 'interested' AND r_them.response = 'interested', false) AS mutual,
       CASE WHEN r_me.response = 'interested' AND r_them.response = 'interested'
            THEN p.display_name END AS partner_name,
       CASE WHEN r_me.response = 'interested' AND r_them.response = 'interested'
            THEN p.contact END AS partner_contact
FROM mine
LEFT JOIN sillage.carpool_responses r_me ON r_me.match_id = mine.id AND r_me.user_id = $1
LEFT JOIN sillage.carpool_responses r_them ON r_them.match_id = mine.id AND r_them.user_id = mine.partner
LEFT JOIN sillage.carpool_profiles p ON p.user_id = mine.partner
WHERE EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = $1 AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL)
  AND EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = mine.partner AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL)
  AND coalesce(r_me.response, '') NOT IN ('declined', 'blocked')
  AND coalesce(r_them.response, '') NOT IN ('declined', 'blocked')
ORDER BY mine.computed_at DESC, mine.id;

-- name: respond
-- Record tester $2's answer to match $1. Declined and blocked are final; a repeated "interested"
-- keeps the time of the first one.
INSERT INTO sillage.carpool_responses AS r (match_id, user_id, response) VALUES ($1, $2, $3)
ON CONFLICT (match_id, user_id) DO UPDATE SET response = EXCLUDED.response, at = now()
WHERE r.response = 'interested' AND EXCLUDED.response <> 'interested';

-- name: confirmed_matches
-- Matches of tester $1 where both said yes and both still consent, with when the second yes came.
SELECT m.id, m.legs::text AS legs, m.user_low = $1 AS i_am_low, greatest(a.at, b.at) AS since
FROM sillage.carpool_matches m
JOIN sillage.carpool_responses a ON a.match_id = m.id AND a.user_id = m.user_low AND a.response = 'interested'
JOIN sillage.carpool_responses b ON b.match_id = m.id AND b.user_id = m.user_high AND b.response = 'interested'
WHERE (m.user_low = $1 OR m.user_high = $1)
  AND EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = m.user_low AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL)
  AND EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = m.user_high AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL);

-- name: testers_with_confirmed_matches
SELECT DISTINCT u.id, u.role_name
FROM sillage.carpool_matches m
JOIN sillage.carpool_responses a ON a.match_id = m.id AND a.user_id = m.user_low AND a.response = 'interested'
JOIN sillage.carpool_responses b ON b.match_id = m.id AND b.user_id = m.user_high AND b.response = 'interested'
JOIN sillage.users u ON u.id IN (m.user_low, m.user_high)
JOIN sillage.consents c ON c.user_id = u.id AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL
ORDER BY u.id;

-- name: live_matches
-- Every match both testers consent to and nobody declined or blocked (for the corridor figures).
SELECT m.id, m.user_low, m.user_high, m.legs::text AS legs
FROM sillage.carpool_matches m
WHERE EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = m.user_low AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL)
  AND EXISTS (SELECT 1 FROM sillage.consents c
              WHERE c.user_id = m.user_high AND c.purpose = 'carpool_matching' AND c.revoked_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM sillage.carpool_responses r
                  WHERE r.match_id = m.id AND r.response IN ('declined', 'blocked'))
ORDER BY m.id;

-- name: sharing_testers
SELECT user_id FROM sillage.consents WHERE purpose = 'share_aggregates' AND revoked_at IS NULL;

-- name: upsert_profile
INSERT INTO sillage.carpool_profiles (user_id, display_name, contact, can_drive) VALUES ($1, $2, $3, $4)
ON CONFLICT (user_id) DO UPDATE
SET display_name = EXCLUDED.display_name, contact = EXCLUDED.contact, can_drive = EXCLUDED.can_drive,
    updated_at = now()
RETURNING display_name, contact, can_drive, updated_at;

-- name: get_profile
SELECT display_name, contact, can_drive, updated_at FROM sillage.carpool_profiles WHERE user_id = $1;
