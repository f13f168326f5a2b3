-- A tester's erasure waits for the transactions in their partition, and keeps new ones out.
--
-- `sillage.erase_user` drops the tester's role and schema. A request authenticated just before
-- (an upload, an export, a trip list, a pipeline step) then failed half way: "role does not exist",
-- "relation does not exist", a foreign key to `sillage.users` violated, an export cut short, each
-- a 500 whose logged text named the tester. Every transaction that enters a partition now holds a
-- shared transaction-level advisory lock on ('sillage.erase', the tester's id) until it ends, and
-- the erasure takes it exclusively first (`store.rights.erase_user`): it waits for those under way,
-- and one entering meanwhile waits for it, then finds the tester gone (401).
--
-- Entering by role name takes the lock in the SQL text that opens the transaction
-- (`store.partition`). Entering by device key (`sillage.enter_device`, migration 0010) takes it
-- here, once the device is known, then looks at the tester again: erased while it waited, the key
-- is refused (SLA01) like a revoked one, and the API's ordinary authentication says 401. The rest
-- of the function is unchanged.
CREATE OR REPLACE FUNCTION sillage.enter_device(
    p_device uuid, p_secret_sha256 bytea, p_dirty_from_us bigint DEFAULT NULL, p_dirty_to_us bigint DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER AS $fn$
DECLARE
    v_user uuid;
    v_role text;
    v_paused timestamptz;
    v_seen timestamptz;
BEGIN
    SELECT u.id, u.role_name, u.paused_at, d.last_seen_at INTO v_user, v_role, v_paused, v_seen
    FROM sillage.devices d JOIN sillage.users u ON u.id = d.user_id
    WHERE d.id = p_device AND d.secret_sha256 = p_secret_sha256 AND d.revoked_at IS NULL;
    IF v_role IS NULL THEN
        RAISE EXCEPTION 'invalid or revoked token' USING ERRCODE = 'SLA01';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(
        pg_catalog.hashtext('sillage.erase'), pg_catalog.hashtext(v_user::text));
    IF NOT EXISTS (SELECT 1 FROM sillage.users WHERE id = v_user) THEN
        RAISE EXCEPTION 'invalid or revoked token' USING ERRCODE = 'SLA01';
    END IF;
    IF v_paused IS NOT NULL THEN
        RAISE EXCEPTION 'recording is paused' USING ERRCODE = 'SLA01';
    END IF;
    IF v_seen IS NULL OR v_seen < pg_catalog.now() - interval '60 seconds' THEN
        UPDATE sillage.devices SET last_seen_at = pg_catalog.now() WHERE id = p_device;
    END IF;
    IF p_dirty_from_us IS NOT NULL THEN
        INSERT INTO sillage.pipeline_dirty AS d (user_id, from_ts, to_ts)
        VALUES (v_user,
                timestamptz 'epoch' + p_dirty_from_us * interval '1 microsecond',
                timestamptz 'epoch' + p_dirty_to_us * interval '1 microsecond')
        ON CONFLICT (user_id) DO UPDATE
        SET from_ts = least(d.from_ts, EXCLUDED.from_ts),
            to_ts = greatest(d.to_ts, EXCLUDED.to_ts),
            updated_at = pg_catalog.now(),
            due_at = pg_catalog.now();
    END IF;
    PERFORM pg_catalog.set_config('role', v_role, true);
    PERFORM pg_catalog.set_config('search_path', pg_catalog.format('%I, public', v_role), true);
END
$fn$;
