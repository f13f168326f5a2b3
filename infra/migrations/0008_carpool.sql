-- Carpool matching among testers who consent to it (purpose `carpool_matching`).
--
-- Matching is across testers, but each tester's trips are readable only by their own role. So a
-- job entering each consenting tester's role in turn reduces their recurring trips to a few
-- offers (snapped coordinates, departure window, weekdays, usual footprint, can drive or not) and
-- writes them into `carpool_offers`, an ordinary table where row-level security holds: a tester
-- role reads and writes only its own rows. Matching then runs over the offers as `sillage_app`.
-- Proposals (`carpool_matches`) carry zones, never coordinates. Each tester's answer
-- (`carpool_responses`) is kept by match id, which is derived from the pair of testers, so a
-- declined or blocked pair never comes back. Consent is re-read from sillage.consents whenever
-- anything is shown, so a revocation takes effect at once.

CREATE TABLE sillage.carpool_offers (
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    seq smallint NOT NULL CHECK (seq BETWEEN 0 AND 15),
    origin_lat double precision NOT NULL CHECK (origin_lat BETWEEN -90 AND 90),
    origin_lon double precision NOT NULL CHECK (origin_lon BETWEEN -180 AND 180),
    destination_lat double precision NOT NULL CHECK (destination_lat BETWEEN -90 AND 90),
    destination_lon double precision NOT NULL CHECK (destination_lon BETWEEN -180 AND 180),
    depart_from_min smallint NOT NULL CHECK (depart_from_min BETWEEN 0 AND 1439),
    depart_to_min smallint NOT NULL CHECK (depart_to_min BETWEEN 0 AND 1439),
    weekdays smallint NOT NULL CHECK (weekdays BETWEEN 1 AND 127),
    distance_m double precision NOT NULL CHECK (distance_m >= 0),
    usual_co2_kg double precision NOT NULL CHECK (usual_co2_kg >= 0),
    usual_mode text NOT NULL,
    can_drive boolean NOT NULL,
    car_kg_per_km double precision NOT NULL CHECK (car_kg_per_km >= 0),
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq),
    CHECK (depart_from_min <= depart_to_min)
);

ALTER TABLE sillage.carpool_offers ENABLE ROW LEVEL SECURITY;
CREATE POLICY carpool_offers_app ON sillage.carpool_offers TO sillage_app USING (true) WITH CHECK (true);
CREATE POLICY carpool_offers_own ON sillage.carpool_offers
    USING (user_id = sillage.role_user_id(current_user))
    WITH CHECK (user_id = sillage.role_user_id(current_user));
GRANT SELECT, INSERT, DELETE ON sillage.carpool_offers TO sillage_tester;
GRANT SELECT, DELETE ON sillage.carpool_offers TO sillage_app;

-- One row per pair of testers (user_low < user_high); `legs` holds the trips they could share:
-- zones, weekdays, window, driver side, detour and savings per side. Recomputed by each run.
CREATE TABLE sillage.carpool_matches (
    id uuid PRIMARY KEY,
    user_low uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    user_high uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    legs jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_low, user_high),
    CHECK (user_low < user_high)
);
CREATE INDEX carpool_matches_high_idx ON sillage.carpool_matches (user_high);

-- A tester's answer to a match; outlives the proposal (no foreign key to it) so that a declined
-- or blocked pair is never proposed again, and interest survives a recomputation.
CREATE TABLE sillage.carpool_responses (
    match_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    response text NOT NULL CHECK (response IN ('interested', 'declined', 'blocked')),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (match_id, user_id)
);
CREATE INDEX carpool_responses_user_idx ON sillage.carpool_responses (user_id);

-- What a tester chose to show a partner once both said yes; never shown otherwise.
CREATE TABLE sillage.carpool_profiles (
    user_id uuid PRIMARY KEY REFERENCES sillage.users (id) ON DELETE CASCADE,
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 60),
    contact text NOT NULL CHECK (length(contact) BETWEEN 1 AND 200),
    can_drive boolean,
    updated_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, DELETE ON sillage.carpool_matches TO sillage_app;
GRANT SELECT, INSERT, UPDATE ON sillage.carpool_responses TO sillage_app;
GRANT SELECT, INSERT, UPDATE ON sillage.carpool_profiles TO sillage_app;
