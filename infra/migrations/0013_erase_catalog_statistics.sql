-- Erasure also refreshes the catalogue statistics that sample a tester's names.
--
-- erase_user (0006) analysed again the tables that referenced the tester, so that no sampled value
-- in pg_statistic still holds their id. The catalogue samples their names too: pg_namespace (the
-- schema is named after the tester's role, and its privileges name it), pg_class (relations'
-- privileges) and TimescaleDB's hypertable and chunk catalogue (schema names). Autovacuum analyses
-- them as testers come and go, so a tester erased after such a run stayed in their statistics
-- until the next one, and `sillage rights verify-erased` reported it (seen once in the test suite).
-- These are analysed too now, in the erasure's transaction, which holds their analyse lock until it
-- commits: no concurrent run can sample the erased tester afterwards. The database owner may
-- analyse them; pg_authid, a shared catalogue only a superuser may analyse (and read statistics
-- of), is left to autovacuum.

CREATE OR REPLACE FUNCTION sillage.erase_user(p_user uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_role text;
    v_pseudonym text;
    v_receipt text := 'x' || encode(gen_random_bytes(16), 'hex');
    v_catalogue text;
    r record;
BEGIN
    SELECT role_name INTO v_role FROM sillage.users WHERE id = p_user FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_pseudonym := sillage.audit_pseudonym(p_user);
    UPDATE sillage.audit_log SET actor = v_receipt WHERE actor_kind = 'tester' AND actor = v_pseudonym;
    UPDATE sillage.audit_log SET subject = v_receipt WHERE subject = v_pseudonym;
    INSERT INTO sillage.audit_log (actor_kind, actor, action, subject)
    VALUES ('tester', v_receipt, 'account.erase', v_receipt);
    DELETE FROM sillage.users WHERE id = p_user;
    -- Privileges other features may have granted to this very role (not to the group) would
    -- keep DROP ROLE from succeeding: revoke them first (membership lets the owner do so).
    EXECUTE format('GRANT %I TO current_user', v_role);
    EXECUTE format('DROP OWNED BY %I', v_role);
    PERFORM sillage.drop_partition(v_role);
    FOR r IN
        SELECT DISTINCT c.oid::regclass AS rel
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND (n.nspname = 'sillage'
               OR c.oid IN (SELECT conrelid FROM pg_constraint
                            WHERE contype = 'f' AND confrelid = 'sillage.users'::regclass))
    LOOP
        EXECUTE format('ANALYZE %s', r.rel);
    END LOOP;
    FOREACH v_catalogue IN ARRAY ARRAY['pg_catalog.pg_namespace', 'pg_catalog.pg_class',
                                       '_timescaledb_catalog.hypertable', '_timescaledb_catalog.chunk']
    LOOP
        IF to_regclass(v_catalogue) IS NOT NULL THEN
            EXECUTE format('ANALYZE %s', v_catalogue);
        END IF;
    END LOOP;
    RETURN v_receipt;
END
$fn$;
