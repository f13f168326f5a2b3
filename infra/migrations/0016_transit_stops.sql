-- The deployment's public-transport network, as evidence for sections' modes (`core.transit`).
--
-- An operator imports the GTFS feed of the network the testers ride (`sillage transit import
-- FEED.zip`): every stop, station and station entrance served by a bus, tram, metro, train or ferry
-- route, with the routes that serve it. Public reference data, shared by every tester, with nothing
-- personal in it: the API's login writes and reads it, tester roles have no use for it (the
-- pipeline reads it before entering a tester's partition).
--
-- A feed is replaced as a whole in one transaction; removing it removes its stops.

CREATE TABLE sillage.transit_feeds (
    feed text PRIMARY KEY CHECK (feed ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    source text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    stops integer NOT NULL CHECK (stops >= 0),
    routes integer NOT NULL CHECK (routes >= 0)
);

CREATE TABLE sillage.transit_stops (
    feed text NOT NULL REFERENCES sillage.transit_feeds (feed) ON DELETE CASCADE,
    stop_id text NOT NULL,
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    -- the routes serving the stop, and each one's mode (same length, same order)
    route_ids text[] NOT NULL CHECK (cardinality(route_ids) > 0),
    modes text[] NOT NULL CHECK (modes <@ ARRAY['bus', 'tram', 'metro', 'train', 'ferry']),
    PRIMARY KEY (feed, stop_id),
    CHECK (cardinality(route_ids) = cardinality(modes))
);

REVOKE ALL ON sillage.transit_feeds, sillage.transit_stops FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON sillage.transit_feeds, sillage.transit_stops TO sillage_app;
