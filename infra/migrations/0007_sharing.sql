-- Sharing with the agglomeration: consented, privacy-protected aggregates and the mobility team.
--
-- Released aggregates live in their own schema `released`, apart from every personal partition
-- and from `sillage.*`. The mobility team's dashboard reads them through the group role
-- `sillage_team` (NOLOGIN), entered with `SET LOCAL ROLE` by the API login `sillage_app`
-- (NOINHERIT, so membership gives nothing until then). `sillage_team` can read the released tables
-- and nothing else: no USAGE on `sillage` nor on any tester schema.
--
-- `sillage.privacy_ledger` is each tester's privacy budget: one row per release they contributed
-- to, with the epsilon it spent. Team accounts and their sessions are in `sillage` too.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sillage_team') THEN
        CREATE ROLE sillage_team NOLOGIN NOINHERIT;
    END IF;
END
$$;
GRANT sillage_team TO sillage_app;

CREATE SCHEMA released;
REVOKE ALL ON SCHEMA released FROM PUBLIC;
GRANT USAGE ON SCHEMA released TO sillage_team, sillage_app;

-- One row per release: what period, and the parameters the city needs to read it (epsilon, k,
-- caps, noise scale per table). `participants` is a bucket ("20-49"), never an exact count.
CREATE TABLE released.releases (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    period_kind text NOT NULL CHECK (period_kind IN ('week', 'month')),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    released_at timestamptz NOT NULL DEFAULT now(),
    epsilon double precision NOT NULL CHECK (epsilon > 0),
    k int NOT NULL CHECK (k >= 2),
    participants text NOT NULL,
    caps jsonb NOT NULL,
    tables jsonb NOT NULL,
    zones_source text NOT NULL CHECK (zones_source IN ('grid', 'geojson')),
    mechanism text NOT NULL,
    CHECK (period_start < period_end),
    -- a period is released once: releasing it again would let noise be averaged away
    UNIQUE (period_kind, period_start)
);

-- Every published value, in long form: (table, dim_a, dim_b) -> value. Withheld cells are absent.
CREATE TABLE released.cells (
    release_id uuid NOT NULL REFERENCES released.releases (id) ON DELETE CASCADE,
    table_name text NOT NULL CHECK (table_name IN ('mode_trips', 'mode_km', 'mode_co2', 'trips_by_hour',
        'trips_by_weekday', 'od_flows', 'avg_km_by_mode')),
    dim_a text NOT NULL,
    dim_b text NOT NULL DEFAULT '',
    value double precision NOT NULL CHECK (value >= 0),
    PRIMARY KEY (release_id, table_name, dim_a, dim_b)
);

-- The zones that appear in a release's published flows (public geography: grid cells or the
-- city's own zones), for the flow map.
CREATE TABLE released.zones (
    release_id uuid NOT NULL REFERENCES released.releases (id) ON DELETE CASCADE,
    zone_id text NOT NULL,
    name text NOT NULL,
    geometry jsonb NOT NULL,
    centroid_lat double precision NOT NULL,
    centroid_lon double precision NOT NULL,
    PRIMARY KEY (release_id, zone_id)
);

REVOKE ALL ON ALL TABLES IN SCHEMA released FROM PUBLIC;
GRANT SELECT ON released.releases, released.cells, released.zones TO sillage_team;
GRANT SELECT, INSERT ON released.releases, released.cells, released.zones TO sillage_app;

CREATE TABLE sillage.privacy_ledger (
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    release_id uuid NOT NULL REFERENCES released.releases (id),
    epsilon double precision NOT NULL CHECK (epsilon > 0),
    spent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, release_id)
);
CREATE INDEX privacy_ledger_release_idx ON sillage.privacy_ledger (release_id);
GRANT SELECT, INSERT ON sillage.privacy_ledger TO sillage_app;

CREATE TABLE sillage.team_accounts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role text NOT NULL CHECK (role IN ('admin', 'analyst')),
    password_hash text NOT NULL,  -- argon2id, PHC string
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- A dashboard session: the cookie carries a random token, only its SHA-256 is stored; the CSRF
-- token of the session's forms is stored with it (synchroniser-token pattern).
CREATE TABLE sillage.team_sessions (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    account_id uuid NOT NULL REFERENCES sillage.team_accounts (id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX team_sessions_account_idx ON sillage.team_sessions (account_id);
GRANT SELECT, INSERT, UPDATE ON sillage.team_accounts TO sillage_app;
GRANT SELECT, INSERT, DELETE ON sillage.team_sessions TO sillage_app;
