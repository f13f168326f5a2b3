-- Whether the app should ask the tester to confirm a section, defined once.
--
-- A section is to confirm when the tester has not confirmed it and the probability of its mode,
-- its most likely one (core.trips.build), is below the deployment's threshold
-- (`SILLAGE_ASK_BELOW`, core.history.unsure). `GET /v1/trips` shows it per section and filters on
-- it, and the coach counts it: three queries that each spelt the rule out until now. A NULL
-- threshold asks about nothing. Plain SQL and IMMUTABLE, so the planner inlines it into each
-- query (no call per row); it reads only its arguments, so every tester's role may call it.

CREATE OR REPLACE FUNCTION sillage.section_to_confirm(
    mode_source text, probabilities jsonb, mode text, ask_below float8
) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    SELECT coalesce(mode_source <> 'user' AND coalesce((probabilities ->> mode)::float8, 0) < ask_below, false)
$fn$;
