-- Revoking the consent to carpool matching forgets the yes the tester gave.
--
-- A yes (`carpool_responses.response = 'interested'`) is given to a match while one takes part.
-- Kept through a revocation, it counted again when the consent was granted anew: the partner's
-- contact came back at once, without a new yes. `ingest.sharing.consents` now removes, with the
-- revocation, the tester's offers, the proposals that involve them and their yes; declines and
-- blocks stay (they protect the tester from a partner). The API's login may insert and update
-- answers but not delete them (a decline or a block is final): this function deletes only yeses.
CREATE FUNCTION sillage.forget_interest(p_user uuid) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
    WITH d AS (
        DELETE FROM sillage.carpool_responses WHERE user_id = p_user AND response = 'interested' RETURNING 1
    )
    SELECT count(*)::integer FROM d
$fn$;

REVOKE ALL ON FUNCTION sillage.forget_interest(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sillage.forget_interest(uuid) TO sillage_app;
