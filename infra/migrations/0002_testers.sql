-- Testers: campaigns, enrolment, devices (tokens), consents, and one partition per tester.
--
-- A tester's partition is a schema `sillage_u_<hex>` holding their hypertables, reachable only by
-- the role of the same name (NOLOGIN). The API's login `sillage_app` is a NOINHERIT member of each
-- such role: it touches a tester's rows only after `SET LOCAL ROLE` inside a transaction, so the
-- database itself refuses a query for one tester's rows made on behalf of another. Row-level
-- security is not used because TimescaleDB chunks bypass it (timescale/timescaledb#7830).
-- Chunks are created in the tester's own schema (associated_schema_name), so erasing a tester is
-- dropping their schema and role.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- What every tester role may do outside its own schema (granted once, to this group, because
-- concurrent GRANTs on one shared object collide: "tuple concurrently updated").
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sillage_tester') THEN
        CREATE ROLE sillage_tester NOLOGIN;
    END IF;
END
$$;

CREATE TABLE sillage.campaigns (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    invite_code text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    fixes_retention_days int CHECK (fixes_retention_days > 0),
    trips_retention_days int CHECK (trips_retention_days > 0),
    enrolment_open boolean NOT NULL DEFAULT true
);

CREATE TABLE sillage.users (
    id uuid PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES sillage.campaigns (id),
    role_name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    paused_at timestamptz
);
CREATE INDEX users_campaign_idx ON sillage.users (campaign_id);

-- One row per device (phone, tracker app). The bearer token is `<id hex>.<secret>`; only
-- sha256(secret) is stored, compared in constant time by the API.
CREATE TABLE sillage.devices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    label text NOT NULL DEFAULT 'phone' CHECK (length(label) <= 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX devices_user_idx ON sillage.devices (user_id);

-- Current state of each consent purpose, and its full history.
CREATE TABLE sillage.consents (
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('coaching', 'share_aggregates', 'research_labels', 'carpool_matching')),
    terms_version text NOT NULL,
    granted_at timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (user_id, purpose)
);

CREATE TABLE sillage.consent_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES sillage.users (id) ON DELETE CASCADE,
    purpose text NOT NULL,
    action text NOT NULL CHECK (action IN ('grant', 'revoke')),
    terms_version text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_user_idx ON sillage.consent_events (user_id);

-- The incremental pipeline's work queue: per tester, the time range touched by uploads since it
-- was last processed. Written in the same transaction as the fixes, so nothing accepted is lost.
CREATE TABLE sillage.pipeline_dirty (
    user_id uuid PRIMARY KEY REFERENCES sillage.users (id) ON DELETE CASCADE,
    from_ts timestamptz NOT NULL,
    to_ts timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- when the pipeline should look at it: now for new fixes, later for an open trip whose end
    -- can only be known once the signal gap has elapsed
    due_at timestamptz NOT NULL DEFAULT now(),
    CHECK (from_ts <= to_ts)
);
CREATE INDEX pipeline_dirty_due_idx ON sillage.pipeline_dirty (due_at);

GRANT SELECT, INSERT, UPDATE ON sillage.campaigns TO sillage_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON sillage.users, sillage.devices, sillage.consents,
    sillage.pipeline_dirty TO sillage_app;
GRANT SELECT, INSERT, DELETE ON sillage.consent_events TO sillage_app;

-- The tables of one partition. Idempotent, so a later migration that adds a table to the layout
-- redefines this function and calls it for every existing tester.
CREATE FUNCTION sillage.ensure_partition(p_schema text, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
BEGIN
    EXECUTE format($$
        CREATE TABLE IF NOT EXISTS %1$I.fixes (
            ts timestamptz NOT NULL,
            lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
            lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
            accuracy_m real,
            altitude_m real,
            speed_mps real,
            bearing_deg real,
            activity text,
            battery real,
            source text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (ts)
        )$$, p_schema);
    IF NOT EXISTS (
        SELECT 1 FROM timescaledb_information.hypertables
        WHERE hypertable_schema = p_schema AND hypertable_name = 'fixes'
    ) THEN
        PERFORM public.create_hypertable(
            format('%I.fixes', p_schema)::regclass, 'ts',
            chunk_time_interval => interval '30 days',
            associated_schema_name => p_schema,
            create_default_indexes => false);
    END IF;
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.fixes TO %I', p_schema, p_role);
END
$fn$;

-- Create a tester's role and partition. Called by the API at enrolment, in the enrolment's
-- transaction: if anything fails, nothing of the tester remains.
CREATE FUNCTION sillage.provision_user(p_user uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_role text := 'sillage_u_' || replace(p_user::text, '-', '');
BEGIN
    EXECUTE format('CREATE ROLE %I NOLOGIN IN ROLE sillage_tester', v_role);
    EXECUTE format('GRANT %I TO sillage_app', v_role);
    EXECUTE format('CREATE SCHEMA %I', v_role);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', v_role, v_role);
    PERFORM sillage.ensure_partition(v_role, v_role);
    RETURN v_role;
END
$fn$;

-- Erase a tester's partition and role (the rows in sillage.* go with ON DELETE CASCADE).
CREATE FUNCTION sillage.drop_partition(p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
BEGIN
    IF p_role !~ '^sillage_u_[0-9a-f]{32}$' THEN
        RAISE EXCEPTION 'not a tester role: %', p_role;
    END IF;
    EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', p_role);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
        EXECUTE format('DROP ROLE %I', p_role);
    END IF;
END
$fn$;

-- The tester a role stands for: the user id is embedded in the role name.
CREATE FUNCTION sillage.role_user_id(p_role name) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $fn$
    SELECT CASE WHEN p_role ~ '^sillage_u_[0-9a-f]{32}$' THEN substr(p_role, 11)::uuid END
$fn$;

-- Called from inside a tester's partition (current_user is the tester's role) to widen their
-- dirty range in the same transaction as the fixes. A tester role may touch only its own row:
-- row-level security on this ordinary table (not a hypertable, so RLS holds) says so.
ALTER TABLE sillage.pipeline_dirty ENABLE ROW LEVEL SECURITY;
CREATE POLICY pipeline_dirty_app ON sillage.pipeline_dirty TO sillage_app USING (true) WITH CHECK (true);
CREATE POLICY pipeline_dirty_own ON sillage.pipeline_dirty
    USING (user_id = sillage.role_user_id(current_user))
    WITH CHECK (user_id = sillage.role_user_id(current_user));

CREATE FUNCTION sillage.mark_my_dirty(p_from timestamptz, p_to timestamptz) RETURNS void
LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog AS $fn$
    INSERT INTO sillage.pipeline_dirty AS d (user_id, from_ts, to_ts)
    VALUES (sillage.role_user_id(current_user), p_from, p_to)
    ON CONFLICT (user_id) DO UPDATE
    SET from_ts = least(d.from_ts, EXCLUDED.from_ts),
        to_ts = greatest(d.to_ts, EXCLUDED.to_ts),
        updated_at = now(),
        due_at = now();
$fn$;

REVOKE ALL ON FUNCTION sillage.mark_my_dirty(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sillage.mark_my_dirty(timestamptz, timestamptz) TO sillage_tester;
GRANT USAGE ON SCHEMA sillage TO sillage_tester;
GRANT SELECT, INSERT, UPDATE ON sillage.pipeline_dirty TO sillage_tester;
REVOKE ALL ON FUNCTION sillage.ensure_partition(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.provision_user(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.drop_partition(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sillage.provision_user(uuid) TO sillage_app;
GRANT EXECUTE ON FUNCTION sillage.drop_partition(text) TO sillage_app;
