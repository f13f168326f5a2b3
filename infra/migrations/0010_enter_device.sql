-- Entering a tester's partition from a device token, inside the transaction that uses it.
--
-- The ingestion hot path (`POST /v1/fixes`) used to authenticate in one round trip and open the
-- tester's transaction in the next. `sillage.enter_device` does both in the statement that opens
-- the transaction: it checks the device's secret digest, that the device is not revoked and that
-- recording is not paused, writes `last_seen_at` at most once a minute (as authentication does),
-- then switches the transaction to the tester's role and schema exactly as
-- `SET LOCAL ROLE <tester>; SET LOCAL search_path = <tester>, public` would. Given a time range
-- (microseconds since 1970), it also widens the tester's reprocessing range, as
-- `sillage.mark_my_dirty` does from inside the partition: the batch's fixes follow in the same
-- transaction, so both commit or neither. Any refusal raises SQLSTATE SLA01 and the transaction
-- is aborted before anything runs under a tester's role; the API then takes the ordinary path,
-- which says why (401, or the paused report).
--
-- Why mark here rather than with `mark_my_dirty` under the tester's role: plpgsql keeps this
-- function's plans for the session, and as `sillage_app` they stay valid from one tester to the
-- next, while `mark_my_dirty`'s statement is planned again on every call (a SQL function under a
-- different role each time, with the row-level security policy of that role).
--
-- SECURITY INVOKER: it runs as the API login (`sillage_app`), which may read `sillage.devices`
-- and `sillage.users` and is a NOINHERIT member of every tester role. It has no `SET` clause on
-- purpose: a function-level setting is restored on exit, which would undo the role switch. Every
-- name is schema-qualified instead. Comparing SHA-256 digests of a 256-bit secret with `=` leaks
-- nothing useful through timing (the presenter cannot steer the digest's prefix).

CREATE FUNCTION sillage.enter_device(
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

REVOKE ALL ON FUNCTION sillage.enter_device(uuid, bytea, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sillage.enter_device(uuid, bytea, bigint, bigint) TO sillage_app;
