-- Foundation: the shared schema and the application role.
--
-- `sillage_app` is the API's login. It is NOINHERIT: membership in a tester's role (granted at
-- enrolment) gives nothing until the request does `SET LOCAL ROLE` to that role. The local
-- cluster (infra/db.sh) gives it LOGIN and a password; in production the DBA does.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sillage_app') THEN
        CREATE ROLE sillage_app NOLOGIN NOINHERIT;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS sillage;
REVOKE ALL ON SCHEMA sillage FROM PUBLIC;
GRANT USAGE ON SCHEMA sillage TO sillage_app;

-- Nobody but the owner creates objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
