-- Sections and confirmations keep their kinematics, so that a tester's confirmations inform their
-- later sections that move the same way, wherever they are (`core.history`, the kinematic match).
--
-- * `sections.kinematics` holds the section's 16 kinematic figures (`core.history.kinematics`:
--   speeds, stops, accelerations, signal-gap share, length, duration, straightness, each as
--   sign(x)·log(1 + |x|) over a fixed scale), written by the pipeline; NULL for sections built
--   before this migration, until their time is processed again.
-- * `labels.kinematics` copies them from the confirmed section when the tester confirms it. A
--   label confirmed before this migration has none and keeps informing later sections by its route
--   and in the tester's mix of modes, as before.
--
-- Derived from the tester's own fixes, like the sections: exported with them, deleted with them.
-- Idempotent, like every partition step: new testers get it at enrolment, existing ones from the
-- migrations runner's batches (0011).

SELECT sillage.add_partition_step('kinematics', 120, $ddl$
    ALTER TABLE %1$I.sections ADD COLUMN IF NOT EXISTS kinematics real[]
        CHECK (kinematics IS NULL OR cardinality(kinematics) > 0);
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS kinematics real[]
        CHECK (kinematics IS NULL OR cardinality(kinematics) > 0);
$ddl$);
