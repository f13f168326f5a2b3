-- The deployment's transit network (GTFS stops), shared reference data (`store.transit`).

-- name: delete_feed
DELETE FROM sillage.transit_feeds WHERE feed = $1;

-- name: insert_feed
INSERT INTO sillage.transit_feeds (feed, source, stops, routes) VALUES ($1, $2, $3, $4);

-- name: feeds
SELECT feed, source, imported_at, stops, routes FROM sillage.transit_feeds ORDER BY feed;

-- name: version
-- Changes whenever a feed is imported again or removed: the pipeline reloads the stops then.
SELECT coalesce(string_agg(feed || '@' || imported_at::text, ',' ORDER BY feed), '')
FROM sillage.transit_feeds;

-- name: stops
SELECT feed, lat, lon, route_ids, modes FROM sillage.transit_stops;
