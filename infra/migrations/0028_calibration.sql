-- A deployment can calibrate the probability shown for each section's mode on its testers' answers
-- (`core.calibration`, `sillage models calibrate`, `SILLAGE_CALIBRATION`).
--
-- A fit needs what the model gave before any calibration, and for which model, so that a new fit
-- replaces the last one instead of stacking on it:
--
-- * `sections.uncalibrated`: the probability of the section's mode before calibration. NULL when
--   no calibration applied (the shown probability is then the uncalibrated one), and for sections
--   the tester confirmed.
-- * `labels.shown_uncalibrated` and `labels.shown_model_version`, copied from the section when the
--   tester confirms it (`insert_label`), beside `shown_mode` and `shown_probability` (0027), and
--   NULL in the same cases (the section showed the tester's own answer, was confirmed before this
--   migration, or is gone).
--
-- A fit also needs answers about sure sections, which the app never asked about: on the GeoLife
-- development subset, a map fitted on the sections below `ask_below` alone left sections shown at
-- 0.97 right 82 % of the time. So a stable share of the sections at or above `ask_below` is asked
-- about too, at random (`sillage.section_audited`: the section id's last two bytes, which uuid5
-- draws from a hash, below `audit_share` of 65,536; `SILLAGE_AUDIT_SHARE`). A section keeps its id
-- across reprocessing, so it stays in or out. `section_to_confirm` gains the section id and the
-- share (the four-argument form of 0024 stays, unused).
--
-- * `labels.asked`: why the section was to confirm when the tester answered: 'unsure' (below
--   `ask_below`), 'audit' (drawn), NULL when it was not (the tester answered of their own accord;
--   a confirmed trip's sure sections) or unknown (before this migration).
-- * `labels.audit_share`: the share in force for an 'audit' answer, which weighs it (1 / share) in
--   the fit: each stands for the sure sections not drawn.
--
-- Part of the tester's sections and labels: exported with them, deleted with them. Idempotent, like
-- every partition step: new testers get it at enrolment, existing ones from the migrations runner's
-- batches (0011).

CREATE OR REPLACE FUNCTION sillage.section_audited(id uuid, audit_share float8) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(get_byte(uuid_send(id), 14) * 256 + get_byte(uuid_send(id), 15) < audit_share * 65536, false)
$fn$;

CREATE OR REPLACE FUNCTION sillage.section_to_confirm(
    id uuid, mode_source text, probabilities jsonb, mode text, ask_below float8, audit_share float8
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(mode_source <> 'user' AND ask_below > 0 AND (
        coalesce((probabilities ->> mode)::float8, 0) < ask_below OR sillage.section_audited(id, audit_share)
    ), false)
$fn$;

SELECT sillage.add_partition_step('calibration', 140, $ddl$
    ALTER TABLE %1$I.sections ADD COLUMN IF NOT EXISTS uncalibrated real
        CHECK (uncalibrated IS NULL OR uncalibrated BETWEEN 0 AND 1);
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS shown_uncalibrated real
        CHECK (shown_uncalibrated IS NULL OR shown_uncalibrated BETWEEN 0 AND 1);
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS shown_model_version text;
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS asked text CHECK (asked IN ('unsure', 'audit'));
    ALTER TABLE %1$I.labels ADD COLUMN IF NOT EXISTS audit_share real
        CHECK (audit_share IS NULL OR audit_share > 0 AND audit_share <= 1);
$ddl$);
