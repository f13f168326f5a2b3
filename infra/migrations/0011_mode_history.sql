-- A section's mode may now come from the tester's own earlier confirmations (`core.history`):
-- `mode_source = 'history'` says so, beside 'model', 'heuristic' and 'user'. The check of every
-- tester's `sections` table is replaced (idempotent: new testers get the base table, then this).

SELECT sillage.add_partition_step('mode_history', 60, $ddl$
    ALTER TABLE %1$I.sections DROP CONSTRAINT IF EXISTS sections_mode_source_check;
    ALTER TABLE %1$I.sections ADD CONSTRAINT sections_mode_source_check
        CHECK (mode_source IN ('model', 'heuristic', 'user', 'history'));
$ddl$);
