-- Testers' rights (GDPR articles 15, 17, 20): an append-only audit log that never holds a
-- location nor, once a tester is erased, anything that leads back to them; erasure of a whole
-- account in one call; hidden trips that stay hidden when the pipeline recomputes them; and the
-- privileged half of retention (dropping whole chunks of a tester's hypertable).
--
-- How the audit log and erasure fit together (see ingest/rights.py for the whole argument):
-- * a tester appears in the log only as a pseudonym, HMAC-SHA256(deployment secret, user id).
--   The secret is generated here, in a table nobody but the schema owner can read; the API
--   obtains pseudonyms through sillage.audit_pseudonym() and never sees the secret.
-- * erasing a tester (sillage.erase_user) re-keys every log entry carrying their pseudonym to a
--   fresh random "erasure receipt" (shown once to the tester, kept nowhere else) in the same
--   transaction that deletes their rows, partition and role. The log keeps what happened and
--   when ("x... exported, deleted a range, erased the account"), but the deterministic pseudonym
--   no longer occurs, and the receipt is random: no secret, id or key relates it to the user.
-- * `sillage rights verify-erased` looks for the user id (text and hex), the role name and the
--   pseudonym everywhere; it finds none of them after erasure.

-- The per-deployment secret of audit pseudonyms (never granted to anyone).
CREATE TABLE sillage.audit_secret (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    secret bytea NOT NULL CHECK (length(secret) = 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON sillage.audit_secret FROM PUBLIC;
INSERT INTO sillage.audit_secret (secret) VALUES (gen_random_bytes(32));

CREATE FUNCTION sillage.audit_pseudonym(p_user uuid) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT 'p' || left(encode(hmac(convert_to(p_user::text, 'UTF8'), s.secret, 'sha256'), 'hex'), 32)
    FROM sillage.audit_secret s WHERE s.singleton
$fn$;

-- Who did what, when; never where. `actor` is the tester's pseudonym (actor_kind 'tester'), the
-- operator's login name ('operator') or the job's name ('system'); `subject` the pseudonym of
-- the tester concerned. `detail` is a flat object of strings, integers and booleans whose keys
-- cannot name a position: a location cannot be written even by mistake.
CREATE TABLE sillage.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind IN ('tester', 'operator', 'system')),
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    action text NOT NULL CHECK (action ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
    subject text,
    detail jsonb NOT NULL DEFAULT '{}' CHECK (
        jsonb_typeof(detail) = 'object'
        AND NOT jsonb_path_exists(detail, '$.* ? (@.type() == "object" || @.type() == "array")')
        AND NOT jsonb_path_exists(detail, '$.* ? (@.type() == "number" && @ != @.floor())')
        AND NOT (detail ?| ARRAY['lat', 'lon', 'lng', 'latitude', 'longitude', 'geometry',
                                 'coordinates', 'location', 'position', 'place', 'address'])
    )
);
CREATE INDEX audit_log_subject_idx ON sillage.audit_log (subject);
CREATE INDEX audit_log_actor_idx ON sillage.audit_log (actor);
REVOKE ALL ON sillage.audit_log FROM PUBLIC;

-- Append one entry (the only way the API writes the log: it holds no privilege on the table, so
-- it can neither rewrite nor delete history). Tester ids are pseudonymised here.
CREATE FUNCTION sillage.audit(
    p_actor_kind text, p_actor text, p_action text, p_subject uuid, p_detail jsonb
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO sillage.audit_log (actor_kind, actor, action, subject, detail)
    VALUES (
        p_actor_kind,
        CASE WHEN p_actor_kind = 'tester' THEN sillage.audit_pseudonym(p_actor::uuid) ELSE p_actor END,
        p_action,
        sillage.audit_pseudonym(p_subject),
        coalesce(p_detail, '{}'::jsonb))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;

-- The entries about one tester (for their export).
CREATE FUNCTION sillage.audit_about(p_user uuid)
RETURNS TABLE (id bigint, at timestamptz, actor_kind text, action text, detail jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    SELECT a.id, a.at, a.actor_kind, a.action, a.detail
    FROM sillage.audit_log a
    WHERE a.subject = sillage.audit_pseudonym(p_user)
       OR (a.actor_kind = 'tester' AND a.actor = sillage.audit_pseudonym(p_user))
    ORDER BY a.id
$fn$;

-- Erase a tester entirely, in the caller's transaction; returns the erasure receipt (NULL when
-- there is no such tester). Rows in sillage.* and in any later table referencing sillage.users
-- go by ON DELETE CASCADE (devices and their token digests, consents and their history, queued
-- work); the partition (every table, chunk, trigger) goes with the schema, then the role. The
-- tables that referenced the tester are analysed again so that no sampled value in the
-- planner's statistics (pg_statistic) still holds their id.
CREATE FUNCTION sillage.erase_user(p_user uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_role text;
    v_pseudonym text;
    v_receipt text := 'x' || encode(gen_random_bytes(16), 'hex');
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
    RETURN v_receipt;
END
$fn$;

-- Retention: drop the chunks of a tester's fixes that lie entirely before p_older_than (only the
-- hypertable's owner may). Returns how many were dropped.
CREATE FUNCTION sillage.drop_fix_chunks(p_role text, p_older_than timestamptz) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    v_n int;
BEGIN
    IF p_role !~ '^sillage_u_[0-9a-f]{32}$' THEN
        RAISE EXCEPTION 'not a tester role: %', p_role;
    END IF;
    SELECT count(*) INTO v_n
    FROM public.drop_chunks(format('%I.fixes', p_role)::regclass, older_than => p_older_than);
    RETURN v_n;
END
$fn$;

-- Hidden trips: a trip the tester hid stays hidden when the pipeline replaces it (it deletes and
-- re-inserts trips from a restart point). The hidden intervals are kept in the partition, like
-- confirmed labels, and a trigger marks any re-inserted trip overlapping one of them.
CREATE FUNCTION sillage.keep_trip_hidden() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    v_hidden boolean;
BEGIN
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %I.hidden_trips h WHERE h.started_at <= $1 AND h.ended_at >= $2)',
        TG_TABLE_SCHEMA)
    INTO v_hidden USING NEW.ended_at, NEW.started_at;
    NEW.hidden := NEW.hidden OR v_hidden;
    RETURN NEW;
END
$fn$;

SELECT sillage.add_partition_step('rights', 50, $ddl$
    CREATE TABLE IF NOT EXISTS %1$I.hidden_trips (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        hidden_at timestamptz NOT NULL DEFAULT now(),
        CHECK (started_at <= ended_at)
    );
    COMMENT ON TABLE %1$I.hidden_trips IS
        'Time intervals of trips the tester hid from coaching and sharing (kept across reprocessing)';
    GRANT SELECT, INSERT, DELETE ON %1$I.hidden_trips TO %2$I;
    CREATE OR REPLACE TRIGGER trips_keep_hidden BEFORE INSERT ON %1$I.trips
        FOR EACH ROW EXECUTE FUNCTION sillage.keep_trip_hidden();
$ddl$);

REVOKE ALL ON FUNCTION sillage.audit_pseudonym(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.audit(text, text, text, uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.audit_about(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.erase_user(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION sillage.drop_fix_chunks(text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sillage.audit_pseudonym(uuid), sillage.audit(text, text, text, uuid, jsonb),
    sillage.audit_about(uuid), sillage.erase_user(uuid), sillage.drop_fix_chunks(text, timestamptz)
    TO sillage_app;
