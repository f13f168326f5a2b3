-- A trip that only touches a hidden trip's interval is not hidden with it.
--
-- A flight shares its first and last fixes with the trips on either side (the last fix before the
-- signal gap ends the drive to the airport and starts the flight: core.segmentation.flights), so
-- the trip before a hidden flight ends at the very instant the flight's hidden interval begins. The
-- trigger of 0006 hid every re-inserted trip whose interval met a hidden one, even at one instant:
-- hiding a flight hid the drive to the airport and the taxi after it at the next reprocessing. A
-- trip is now hidden when it overlaps a hidden interval for some time, or has exactly its bounds.

CREATE OR REPLACE FUNCTION sillage.keep_trip_hidden() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
    v_hidden boolean;
BEGIN
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %I.hidden_trips h WHERE (h.started_at < $1 AND h.ended_at > $2)'
        ' OR (h.started_at = $2 AND h.ended_at = $1))',
        TG_TABLE_SCHEMA)
    INTO v_hidden USING NEW.ended_at, NEW.started_at;
    NEW.hidden := NEW.hidden OR v_hidden;
    RETURN NEW;
END
$fn$;
