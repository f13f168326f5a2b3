-- Which home and work the tester's trip purposes were last named with.
--
-- The pipeline names the purpose of each trip it builds from the home and work guessed when it
-- runs (`ingest.coaching.name_trip_purposes`). Home and work are guessed only after three nights
-- and three half working days, and the guess moves when the tester moves: trips made before
-- were left with no purpose, or with one named from half the picture ("work" for a commute while
-- only work was known), for good. Their bike commutes never counted as FMD days, and the
-- footprint, which named purposes afresh, disagreed with `/v1/trips`. `purposes_places` keys the
-- places the last naming used (rounded to about 100 m); when the guess differs, the step fills in
-- the purposes of the places' look-back (120 days): a trip without one is named, a derived one
-- that turns out to be a commute becomes one, and none is otherwise overwritten (a tester who
-- moves keeps the commutes made from the old home).
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011). NULL until the next step: the first one renames the look-back.

SELECT sillage.add_partition_step('purposes_places', 110, $ddl$
    ALTER TABLE %1$I.pipeline_state ADD COLUMN IF NOT EXISTS purposes_places text;
$ddl$);
