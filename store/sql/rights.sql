-- Testers' rights, shared schema: audit log, pause, erasure, retention targets, and the catalogue
-- reads that make the export and the erasure verifier generic over tables other features add.

-- name: audit
-- Append one entry; tester ids are pseudonymised by the function (see 0006_rights.sql).
SELECT sillage.audit($1, $2, $3, $4, $5::jsonb);

-- name: audit_about
SELECT id, at, actor_kind, action, detail FROM sillage.audit_about($1);

-- name: pseudonym
SELECT sillage.audit_pseudonym($1);

-- name: pause
UPDATE sillage.users SET paused_at = now() WHERE id = $1 AND paused_at IS NULL RETURNING paused_at;

-- name: resume
UPDATE sillage.users SET paused_at = NULL WHERE id = $1 AND paused_at IS NOT NULL RETURNING id;

-- name: hold_against_entries
-- Wait for every transaction in the tester's partition to end, and keep new ones out until this
-- one ends (they take the same key, shared: store.partition, migration 0030's enter_device).
SELECT pg_advisory_xact_lock(hashtext('sillage.erase'), hashtext($1::uuid::text));

-- name: erase_user
SELECT sillage.erase_user($1);

-- name: account
SELECT u.id, u.created_at, u.paused_at, c.name AS campaign, c.fixes_retention_days, c.trips_retention_days
FROM sillage.users u JOIN sillage.campaigns c ON c.id = u.campaign_id
WHERE u.id = $1;

-- name: shared_relations
-- Every table holding rows about one tester: a single-column foreign key to sillage.users, that
-- the current role may read (devices, consents, consent_events, pipeline_dirty, and whatever
-- later features add the same way).
-- `user_columns` lists every column of the table referencing a tester: the export drops those
-- other than `user_column` (another tester's id, e.g. a carpool partner, is not yours to take).
SELECT c.oid, n.nspname AS schema, c.relname AS name, obj_description(c.oid, 'pg_class') AS comment,
       a.attname AS user_column,
       ARRAY(SELECT a2.attname
             FROM pg_constraint k2
             JOIN pg_attribute a2 ON a2.attrelid = k2.conrelid AND a2.attnum = k2.conkey[1]
             WHERE k2.conrelid = c.oid AND k2.contype = 'f' AND k2.confrelid = 'sillage.users'::regclass
               AND cardinality(k2.conkey) = 1) AS user_columns
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
WHERE k.contype = 'f' AND k.confrelid = 'sillage.users'::regclass AND cardinality(k.conkey) = 1
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname, a.attname;

-- name: relation_columns
-- typcategory is a "char", which asyncpg reads as bytes: as text, the export sees its letter (until
-- this cast, numbers and booleans were written as quoted text, and arrays in PostgreSQL's syntax).
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typcategory::text AS category,
       col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: relation_key
-- The columns of the primary key, else of the first unique index: the export's row order.
SELECT array_agg(a.attname ORDER BY k.ord) AS columns
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisunique AND i.indexprs IS NULL AND i.indpred IS NULL
GROUP BY i.indexrelid, i.indisprimary
ORDER BY i.indisprimary DESC, i.indexrelid
LIMIT 1;

-- name: retention_targets
SELECT u.id, u.role_name, c.fixes_retention_days, c.trips_retention_days
FROM sillage.users u JOIN sillage.campaigns c ON c.id = u.campaign_id
WHERE c.fixes_retention_days IS NOT NULL OR c.trips_retention_days IS NOT NULL
ORDER BY u.id;

-- name: drop_fix_chunks
SELECT sillage.drop_fix_chunks($1, $2);

-- name: scan_relations
-- What the erasure verifier reads: every table (chunks included), and the system catalogue's
-- tables and views, that the current role may read.
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE (c.relkind IN ('r', 'p', 'm') OR (c.relkind = 'v' AND n.nspname = 'pg_catalog'))
  AND n.nspname NOT IN ('information_schema', 'pg_toast')
  -- these two show only the verifier's own session (its statements name the tables it scans)
  AND NOT (n.nspname = 'pg_catalog' AND c.relname IN ('pg_prepared_statements', 'pg_cursors'))
  AND has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname;

-- name: role_exists
SELECT rolname FROM pg_roles WHERE rolname = $1;

-- name: schema_exists
SELECT nspname FROM pg_namespace WHERE nspname = $1;
