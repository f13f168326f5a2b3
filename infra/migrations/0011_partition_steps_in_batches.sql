-- Partition steps reach existing testers in batches, not all in the transaction of their migration.
--
-- `sillage.add_partition_step` (0004) applied a new step to every tester in the one transaction of
-- the migration that added it. Each tester costs about 11 locks there (measured on the step of
-- 0012: their tables and indexes, more with fix chunks), and the cluster has 512 x 200 lock slots
-- (infra/db.sh): past some 9,000 testers such a migration would fail with "out of shared memory",
-- and a national programme has 100,000. Now a migration only records its step;
-- `sillage.apply_partition_steps(n)` brings up to n testers up to date in the caller's
-- transaction, and the migrations runner (store/migrate.py) calls it in a loop after the files,
-- one transaction per batch, until no tester is behind. Each tester's progress is the position of
-- the last step their partition has, in `sillage.partition_state`; new testers get every step at
-- enrolment, as before.

CREATE TABLE sillage.partition_state (
    -- Deferred: enrolment provisions the partition before it inserts the user row.
    role_name text PRIMARY KEY
        REFERENCES sillage.users (role_name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position int NOT NULL
);
REVOKE ALL ON sillage.partition_state FROM PUBLIC;
-- Role names carry the tester's id: no planner statistics on them, so that no sampled value can
-- outlive an erasure in pg_statistic (the primary key serves every lookup without them).
ALTER TABLE sillage.partition_state ALTER COLUMN role_name SET STATISTICS 0;
COMMENT ON TABLE sillage.partition_state IS 'How far each tester''s partition layout is up to date (internal).';

-- Every tester so far has every step so far: add_partition_step applied them at once.
INSERT INTO sillage.partition_state (role_name, position)
SELECT role_name, (SELECT coalesce(max(position), 0) FROM sillage.partition_steps) FROM sillage.users;

CREATE OR REPLACE FUNCTION sillage.ensure_partition(p_schema text, p_role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    step record;
    v_top int := 0;
BEGIN
    PERFORM sillage.ensure_base_partition(p_schema, p_role);
    FOR step IN SELECT ddl, position FROM sillage.partition_steps ORDER BY position LOOP
        EXECUTE format(step.ddl, p_schema, p_role);
        v_top := step.position;
    END LOOP;
    INSERT INTO sillage.partition_state AS s (role_name, position) VALUES (p_role, v_top)
    ON CONFLICT (role_name) DO UPDATE SET position = greatest(s.position, EXCLUDED.position);
END
$fn$;

-- For migrations (run as the schema owner): record a step; apply_partition_steps spreads it.
CREATE OR REPLACE FUNCTION sillage.add_partition_step(p_name text, p_position int, p_ddl text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $fn$
BEGIN
    IF p_position <= (SELECT coalesce(max(position), 0) FROM sillage.partition_steps) THEN
        RAISE EXCEPTION 'partition step % must come after every existing step', p_name;
    END IF;
    INSERT INTO sillage.partition_steps (name, position, ddl) VALUES (p_name, p_position, p_ddl);
END
$fn$;

-- Bring up to p_testers testers up to date with every step, in the caller's transaction; returns
-- how many it took. Testers another runner is updating are skipped.
CREATE FUNCTION sillage.apply_partition_steps(p_testers int) RETURNS int
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_top int;
    r record;
    step record;
    n int := 0;
BEGIN
    SELECT coalesce(max(position), 0) INTO v_top FROM sillage.partition_steps;
    FOR r IN
        SELECT role_name, position FROM sillage.partition_state
        WHERE position < v_top ORDER BY role_name LIMIT p_testers FOR UPDATE SKIP LOCKED
    LOOP
        FOR step IN SELECT ddl FROM sillage.partition_steps WHERE position > r.position ORDER BY position LOOP
            EXECUTE format(step.ddl, r.role_name, r.role_name);
        END LOOP;
        UPDATE sillage.partition_state SET position = v_top WHERE role_name = r.role_name;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$fn$;
REVOKE ALL ON FUNCTION sillage.apply_partition_steps(int) FROM PUBLIC;
