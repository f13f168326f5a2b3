-- Sections keep the model's own probabilities beside the ones the tester sees.
--
-- `sections.probabilities` are what the app shows: the model's, weighed by the tester's mix of
-- modes and their confirmations (`core.history`). The mix of a tester who confirmed nothing is
-- read from the model's own probabilities over their recent sections, which must not be the
-- weighed ones (a mix read from weighed probabilities would feed on itself and sharpen with every
-- step). `sections.model_probabilities` keeps them; NULL for sections built before this migration,
-- until their time is processed again.
--
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011).

SELECT sillage.add_partition_step('model_probabilities', 80, $ddl$
    ALTER TABLE %1$I.sections ADD COLUMN IF NOT EXISTS model_probabilities jsonb
        CHECK (model_probabilities IS NULL OR jsonb_typeof(model_probabilities) = 'object');
$ddl$);
