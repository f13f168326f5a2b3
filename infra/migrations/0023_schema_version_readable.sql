-- The API's login may read which migrations the database has.
--
-- `GET /health` now says which migration the database is at, and answers 503 when it is behind the
-- code being served (new code started before `sillage db migrate` ran): every request touching a
-- new table or column would fail, and a load balancer or an operator must see why at once. The
-- table holds version numbers, names, checksums and times only.

GRANT SELECT ON sillage.schema_migrations TO sillage_app;
