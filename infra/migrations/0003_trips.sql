-- Trips, sections and modes: the derived data of each tester, inside their own partition.
--
-- These are ordinary tables in the tester's schema (small, keyed by uuid, with foreign keys),
-- next to the `fixes` hypertable; the same role-only privileges protect them. `labels` keeps the
-- modes a tester confirmed as time intervals, so a confirmation survives the reprocessing of its
-- trip. `pipeline_state` is the tester's watermark: everything before `complete_until` is final.

CREATE OR REPLACE FUNCTION sillage.ensure_partition(p_schema text, p_role text) RETURNS void
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
    EXECUTE format($$
        CREATE TABLE IF NOT EXISTS %1$I.stays (
            id uuid PRIMARY KEY,
            started_at timestamptz NOT NULL,
            ended_at timestamptz NOT NULL,
            lat double precision NOT NULL,
            lon double precision NOT NULL,
            n_fixes int NOT NULL,
            CHECK (started_at <= ended_at)
        );
        CREATE INDEX IF NOT EXISTS stays_started_idx ON %1$I.stays (started_at);
        CREATE TABLE IF NOT EXISTS %1$I.trips (
            id uuid PRIMARY KEY,
            started_at timestamptz NOT NULL,
            ended_at timestamptz NOT NULL,
            origin_lat double precision NOT NULL,
            origin_lon double precision NOT NULL,
            destination_lat double precision NOT NULL,
            destination_lon double precision NOT NULL,
            origin_stay_id uuid,
            destination_stay_id uuid,
            distance_m double precision NOT NULL,
            purpose text,
            hidden boolean NOT NULL DEFAULT false,
            processed_at timestamptz NOT NULL DEFAULT now(),
            CHECK (started_at <= ended_at)
        );
        CREATE INDEX IF NOT EXISTS trips_started_idx ON %1$I.trips (started_at);
        CREATE TABLE IF NOT EXISTS %1$I.sections (
            id uuid PRIMARY KEY,
            trip_id uuid NOT NULL REFERENCES %1$I.trips (id) ON DELETE CASCADE,
            seq smallint NOT NULL,
            started_at timestamptz NOT NULL,
            ended_at timestamptz NOT NULL,
            distance_m double precision NOT NULL,
            n_fixes int NOT NULL,
            mode text NOT NULL,
            probabilities jsonb NOT NULL,
            mode_source text NOT NULL CHECK (mode_source IN ('model', 'heuristic', 'user')),
            model_version text NOT NULL,
            geometry jsonb NOT NULL,
            occupants smallint NOT NULL DEFAULT 1 CHECK (occupants BETWEEN 1 AND 9),
            co2_kg double precision,
            co2_factor text,
            co2_registry text,
            UNIQUE (trip_id, seq)
        );
        CREATE INDEX IF NOT EXISTS sections_started_idx ON %1$I.sections (started_at);
        CREATE TABLE IF NOT EXISTS %1$I.labels (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            started_at timestamptz NOT NULL,
            ended_at timestamptz NOT NULL,
            mode text NOT NULL,
            section_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            CHECK (started_at <= ended_at)
        );
        CREATE INDEX IF NOT EXISTS labels_started_idx ON %1$I.labels (started_at);
        CREATE TABLE IF NOT EXISTS %1$I.pipeline_state (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            complete_until timestamptz,
            processed_at timestamptz NOT NULL DEFAULT now(),
            model_version text
        );
        CREATE TABLE IF NOT EXISTS %1$I.profile (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            vehicle jsonb NOT NULL DEFAULT '{}',
            updated_at timestamptz NOT NULL DEFAULT now()
        )$$, p_schema);
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.fixes, %1$I.stays, %1$I.trips, %1$I.sections,'
        ' %1$I.labels, %1$I.pipeline_state, %1$I.profile TO %2$I', p_schema, p_role);
END
$fn$;

-- Bring every existing partition to the new layout.
SELECT sillage.ensure_partition(role_name, role_name) FROM sillage.users;
