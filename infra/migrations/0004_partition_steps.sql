-- An extensible partition layout. Each feature that keeps data in the tester's partition adds a
-- named step (a format() template: %1$I is the tester's schema, %2$I their role) with
-- sillage.add_partition_step, which applies it to every existing tester; new testers get every
-- step at enrolment. Steps must be idempotent (CREATE ... IF NOT EXISTS, GRANT).

CREATE TABLE sillage.partition_steps (
    name text PRIMARY KEY,
    position int NOT NULL UNIQUE,
    ddl text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON sillage.partition_steps FROM PUBLIC;

-- The base layout (fixes, stays, trips, sections, labels, state, profile) becomes step 10.
ALTER FUNCTION sillage.ensure_partition(text, text) RENAME TO ensure_base_partition;

CREATE FUNCTION sillage.ensure_partition(p_schema text, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    step record;
BEGIN
    PERFORM sillage.ensure_base_partition(p_schema, p_role);
    FOR step IN SELECT ddl FROM sillage.partition_steps ORDER BY position LOOP
        EXECUTE format(step.ddl, p_schema, p_role);
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION sillage.ensure_partition(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.ensure_base_partition(text, text) FROM PUBLIC;

-- For migrations (run as the schema owner): record a step and apply it to every tester.
CREATE FUNCTION sillage.add_partition_step(p_name text, p_position int, p_ddl text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $fn$
DECLARE
    r record;
BEGIN
    INSERT INTO sillage.partition_steps (name, position, ddl) VALUES (p_name, p_position, p_ddl);
    FOR r IN SELECT role_name FROM sillage.users LOOP
        EXECUTE format(p_ddl, r.role_name, r.role_name);
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION sillage.add_partition_step(text, int, text) FROM PUBLIC;
