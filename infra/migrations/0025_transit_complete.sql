-- A feed may be declared complete for its area (`sillage transit import FEED --complete`).
--
-- The operator says that the imported feeds together hold every bus, tram, metro, train and ferry
-- stop where this feed has stops. There, a transit mode with no stop near either end of a section
-- is absent: La Rochelle has no metro and no tram, so a car ride the model reads as metro is not
-- left as metro (`core.transit`, `absent_factor`). A feed imported without the flag says nothing
-- about what it lacks, as before.

ALTER TABLE sillage.transit_feeds ADD COLUMN complete boolean NOT NULL DEFAULT false;
