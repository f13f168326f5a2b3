-- An answer sent with a section's superseded id still lands on the time it was about.
--
-- A section's id is its trip's and its own time span (`core.trips.section_id`): a step that moves
-- either end (late fixes, a trip closed by a signal gap that goes on) stores the section again
-- with a new id. An app that showed the section a minute before sent `PATCH /v1/sections/{id}`
-- with the old id and got 404: the tester's answer was lost unless the app listed the trip again
-- and asked again. `superseded_sections` keeps, for each section a step deleted without storing it
-- again, its id, trip and time span (`store.trips.replace_from`); `PATCH` with such an id confirms
-- the section shown now that overlaps that span most, as if sent with its current id
-- (`ingest.trips.confirm_mode`). Times only, like `deleted_trips`.
--
-- Kept 30 days after the step that replaced it (`store.trips.SUPERSEDED_KEPT_DAYS`; each step
-- forgets the older ones, and an id that names a section again), and removed with the trips by a
-- deletion of a time range and by retention; erasure drops the partition. Steps rebuild sections
-- with the same ids unless their ends move, so the table holds the few sections late fixes moved
-- in the last 30 days (reprocessing a whole history that moves them adds each section once).
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011).

SELECT sillage.add_partition_step('superseded_sections', 160, $ddl$
    CREATE TABLE IF NOT EXISTS %1$I.superseded_sections (
        id uuid PRIMARY KEY,
        trip_id uuid NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        replaced_at timestamptz NOT NULL DEFAULT now(),
        CHECK (started_at <= ended_at)
    );
    COMMENT ON TABLE %1$I.superseded_sections IS
        'Ids of sections a step replaced, with their time span (answers sent with them land there)';
    GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.superseded_sections TO %2$I;
$ddl$);
