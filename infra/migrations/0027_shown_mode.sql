-- A confirmation keeps the mode the tester was shown when they answered, and its probability, so
-- that answers which only agree with what the app showed count as much as the tester's answers show
-- attention (`core.history.answer_weights`): a tester who taps "looks right" on every question
-- without looking would otherwise teach the history the model's own mistakes.
--
-- * `labels.shown_mode` and `labels.shown_probability` are copied from the section when the tester
--   confirms it (`insert_label`): its mode and that mode's probability as the app showed them. NULL
--   when the section showed the tester's own earlier answer (answering again is no agreement with
--   the model), for labels confirmed before this migration, and for labels whose section is gone.
--   Such labels count in full, as before.
--
-- Part of the tester's labels: exported with them, deleted with them. Idempotent, like every
-- partition step: new testers get it at enrolment, existing ones from the migrations runner's
-- batches (0011).

SELECT sillage.add_partition_step('shown_mode', 130, $ddl$
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS shown_mode text;
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS shown_probability real
        CHECK (shown_probability IS NULL OR shown_probability BETWEEN 0 AND 1);
$ddl$);
