-- Failed dashboard logins are counted in the database, not in each API process.
--
-- The login throttle (10 failed logins a minute per client address and per e-mail address, OWASP
-- Authentication Cheat Sheet, "Login Throttling") was a token bucket in the memory of the process
-- that served the request. Behind `SILLAGE_WORKERS` processes an attacker had that many times the
-- attempts, and a restart gave them all back. Each bucket is now a row, updated in one statement
-- (`store/sql/sharing.sql`, `take_login_token`), so every process and every restart sees the same
-- count.
--
-- A bucket's key is the SHA-256 of "address:<client address>" or "email:<e-mail address>": no
-- client address or attempted e-mail address is kept in clear. Its `at` is its last attempt; a
-- bucket untouched for an hour is full again and is deleted at the next login.

CREATE TABLE sillage.login_throttle (
    key_sha256 bytea PRIMARY KEY CHECK (length(key_sha256) = 32),
    tokens double precision NOT NULL,
    refused boolean NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX login_throttle_at_idx ON sillage.login_throttle (at);
GRANT SELECT, INSERT, UPDATE, DELETE ON sillage.login_throttle TO sillage_app;

-- The bucket's tokens at `at_time`: refilled at `per_s` a second since its last attempt, up to
-- `capacity` (a clock that went back refills nothing).
CREATE FUNCTION sillage.login_tokens(
    tokens double precision, last_at timestamptz, capacity double precision,
    per_s double precision, at_time timestamptz
) RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT least(capacity, tokens + greatest(extract(epoch FROM at_time - last_at)::float8, 0) * per_s)
$$;
