-- When, and from exactly which home and work, the tester's trip purposes were last named.
--
-- A step names the purposes of the trips it rebuilt from home and work as of its last fix, and
-- when that guess differs from the last naming's (0021), only fills in the trips before the
-- step's restart point: a tester who moves keeps the commutes made from the old home. But a guess
-- can also be refuted by fixes that arrive late: a desk looked like 13 hours of working time until
-- the day's missing fixes showed the phone 1.4 km away, and the walk named a "work" trip from it
-- kept that name, while one pass over the same fixes named it nothing. To tell the two apart the
-- step guesses again the places of the last naming's own time (`purposes_named_at`) with what is
-- now known: when they are no longer what that naming used (`purposes_named_places`, the exact
-- `lat,lon|lat,lon` the key of 0021 rounds), the trips named from the refuted guess are named
-- afresh (`ingest.coaching.name_new_trip_purposes`).
--
-- NULL until the next step names purposes; until then a step fills in only, as before.

SELECT sillage.add_partition_step('purposes_named', 150, $ddl$
    ALTER TABLE %1$I.pipeline_state ADD COLUMN IF NOT EXISTS purposes_named_at timestamptz;
    ALTER TABLE %1$I.pipeline_state ADD COLUMN IF NOT EXISTS purposes_named_places text;
$ddl$);
