-- Retention keeps trips longer than the fixes they were made of: what reprocessing may not rebuild.
--
-- `sillage rights retention` deletes a campaign's fixes older than its fixes limit and keeps its
-- trips and stays up to the (longer) trips limit. The pipeline rebuilds a tester's derived rows
-- from a restart point on, from the fixes it finds there: a late upload, a confirmation (which
-- revisits 14 days), or a deleted trip could reach back before the oldest fix kept, delete the
-- trips there and find no fix to rebuild them from. `pipeline_state.frozen_before` is where the
-- rebuildable part begins (set by each retention run: the first stay or trip that began at or
-- after the fixes cutoff); the pipeline never restarts before it, so the rows before it stay
-- as they were until the trips limit removes them.
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011). NULL until the next retention run: nothing is frozen.

SELECT sillage.add_partition_step('frozen_derived', 90, $ddl$
    ALTER TABLE %1$I.pipeline_state ADD COLUMN IF NOT EXISTS frozen_before timestamptz;
$ddl$);
