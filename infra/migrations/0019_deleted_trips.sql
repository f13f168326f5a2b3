-- A trip the tester deleted is not rebuilt from the positions around it.
--
-- `DELETE /v1/me/trips/{id}` deletes the trip and the fixes it was made of, so reprocessing has
-- nothing to rebuild it from: true of a trip made of its own fixes, not of a flight. A flight is
-- inferred from a signal gap between the last fix at the departure airport and the first one
-- after landing (`core.segmentation.flights`); with those two deleted, the next fix on each side
-- makes the same flight again. `deleted_trips` keeps the intervals of deleted trips (times only,
-- like `hidden_trips`), and the pipeline drops any trip it builds across one of them: the tester
-- said no trip happened there. The stays around it stay (deleting a time range removes those).
-- Retention removes intervals past the trips limit, like the trips themselves.
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011).

SELECT sillage.add_partition_step('deleted_trips', 100, $ddl$
    CREATE TABLE IF NOT EXISTS %1$I.deleted_trips (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        deleted_at timestamptz NOT NULL DEFAULT now(),
        CHECK (started_at <= ended_at)
    );
    COMMENT ON TABLE %1$I.deleted_trips IS
        'Time intervals of trips the tester deleted (no trip is rebuilt across them)';
    GRANT SELECT, INSERT, DELETE ON %1$I.deleted_trips TO %2$I;
$ddl$);
