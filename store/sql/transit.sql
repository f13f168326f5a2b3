-- The deployment's transit network (GTFS stops), shared reference data (`store.transit`).

-- name: delete_feed
DELETE FROM sillage.transit_feeds WHERE feed = $1;

-- name: insert_feed
INSERT INTO sillage.transit_feeds (feed, source, stops, routes, complete) VALUES ($1, $2, $3, $4, $5)
RETURNING feed, source, imported_at, stops, routes, complete;

-- name: feeds
SELECT feed, source, imported_at, stops, routes, complete FROM sillage.transit_feeds ORDER BY feed;

-- name: version
-- Changes whenever a feed is imported again or removed: the pipeline reloads the stops then.
SELECT coalesce(string_agg(feed || '@' || imported_at::text, ',' ORDER BY feed), '')
FROM sillage.transit_feeds;

-- name: stops
SELECT s.feed, s.lat, s.lon, s.route_ids, s.modes, f.complete
FROM sillage.transit_stops s JOIN sillage.transit_feeds f ON f.feed = s.feed;

-- name: revisit
-- Queue the time from $1 on of every tester (of the campaigns named in $2, when it is not NULL) for
-- reprocessing, so that their sections are weighed by the network as it is now; merged with any
-- range already pending, due at once.
WITH queued AS (
    INSERT INTO sillage.pipeline_dirty AS d (user_id, from_ts, to_ts)
    SELECT u.id, $1, greatest($1, now())
    FROM sillage.users u JOIN sillage.campaigns c ON c.id = u.campaign_id
    WHERE $2::text[] IS NULL OR c.name = ANY($2::text[])
    ON CONFLICT (user_id) DO UPDATE
    SET from_ts = least(d.from_ts, EXCLUDED.from_ts),
        to_ts = greatest(d.to_ts, EXCLUDED.to_ts),
        updated_at = now(),
        due_at = now()
    RETURNING 1
)
SELECT count(*) FROM queued;

-- name: unknown_campaigns
SELECT u.given FROM unnest($1::text[]) AS u (given)
WHERE NOT EXISTS (SELECT 1 FROM sillage.campaigns c WHERE c.name = u.given)
ORDER BY u.given;
