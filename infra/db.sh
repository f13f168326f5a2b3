#!/usr/bin/env bash
# The project-local TimescaleDB cluster: `db.sh up|down|status|env|exec CMD...`.
#
# Data lives in the git-ignored `.data/` of the checkout (SILLAGE_DATA_DIR overrides it), with its
# own port (SILLAGE_DB_PORT, default 55432) and its own socket directory. PostgreSQL refuses to
# run as root, so under root the cluster runs as the system user `sillage-db`.
#
# Roles created in the cluster:
#   postgres        superuser, reachable only through the private socket (tests create databases)
#   sillage_admin   owns the schema and runs migrations; creates per-user roles via SECURITY DEFINER
#   sillage_app     the API's login; NOINHERIT, so it only reaches a tester's partition after
#                   `SET LOCAL ROLE` to that tester's role inside a transaction
# Their generated passwords and URLs are written to `.data/env` (mode 600).
#
# With SILLAGE_DATABASE_URL set, none of this runs: `exec` runs the command against that server.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA=${SILLAGE_DATA_DIR:-$ROOT/.data}
DBNAME=${SILLAGE_DB_NAME:-sillage}
ENVFILE=$DATA/env
# The cluster's own files must be reachable by the database's OS user; when the checkout sits
# under a private folder (say /root), they go to /var/lib/sillage/<hash of the checkout> instead,
# and .data/pgdir remembers where.
PGHOME=$DATA
[ -f "$DATA/pgdir" ] && PGHOME=$(cat "$DATA/pgdir")
set_pg_paths() { PGDATA=$PGHOME/pg; RUN=$PGHOME/run; LOG=$PGHOME/postgresql.log; }
set_pg_paths

say() { printf 'db: %s\n' "$*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The port: SILLAGE_DB_PORT, else the one this cluster was created with, else the first free port
# from 55432 (another checkout's cluster may hold 55432 on the same machine).
if [ -n "${SILLAGE_DB_PORT:-}" ]; then
    PORT=$SILLAGE_DB_PORT
elif [ -f "$DATA/port" ]; then
    PORT=$(cat "$DATA/port")
else
    PORT=55432
    while port_in_use "$PORT"; do PORT=$((PORT + 1)); done
fi
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" = 0 ]; then
    DBUSER=sillage-db
    as_db() { (cd / && runuser -u "$DBUSER" -- "$@"); }
else
    DBUSER=$(id -un)
    as_db() { "$@"; }
fi

ensure_os_user() {
    [ "$(id -u)" = 0 ] || return 0
    id -u "$DBUSER" >/dev/null 2>&1 && return 0
    say "creating system user $DBUSER (PostgreSQL does not run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$DBUSER" \
        || die "cannot create system user $DBUSER"
}

bindir() {
    if [ -z "${BINDIR:-}" ]; then
        BINDIR=$("$ROOT/infra/install-timescaledb.sh" | tail -n 1)
    fi
    echo "$BINDIR"
}

running() { [ -f "$PGDATA/postmaster.pid" ] && as_db "$(bindir)/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

psql_su() { # superuser psql through the private socket
    "$(bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$RUN" -p "$PORT" -U postgres "$@"
}

gen_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

init_cluster() {
    mkdir -p "$DATA"
    chmod 755 "$DATA"
    if [ "$(id -u)" = 0 ] && ! runuser -u "$DBUSER" -- test -x "$DATA"; then
        PGHOME=/var/lib/sillage/$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)
        say "$DBUSER cannot reach $DATA (a parent folder is private): cluster files go to $PGHOME"
        mkdir -p "$PGHOME"
        chmod 755 /var/lib/sillage "$PGHOME"
        runuser -u "$DBUSER" -- test -x "$PGHOME" || die "user $DBUSER cannot reach $PGHOME either"
    fi
    echo "$PGHOME" > "$DATA/pgdir"
    set_pg_paths
    mkdir -p "$PGDATA" "$RUN"
    echo "$PORT" > "$DATA/port"
    [ "$(id -u)" = 0 ] && chown "$DBUSER" "$PGDATA" "$RUN"
    chmod 700 "$PGDATA" "$RUN"
    say "initdb in $PGDATA"
    as_db "$(bindir)/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    cat >> "$PGDATA/postgresql.conf" <<EOF

# --- sillage: project-local cluster ---
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
max_connections = 200
# one partition (schema + hypertable + role) per tester: DDL touches many relations
max_locks_per_transaction = 512
shared_buffers = 256MB
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

write_env() {
    local admin_pw app_pw
    if [ -f "$DATA/secrets" ]; then
        # shellcheck disable=SC1091
        . "$DATA/secrets"
    else
        admin_pw=$(gen_secret) app_pw=$(gen_secret)
        umask 077
        printf 'admin_pw=%s\napp_pw=%s\n' "$admin_pw" "$app_pw" > "$DATA/secrets"
    fi
    psql_su -d postgres >/dev/null <<SQL
SELECT 'CREATE ROLE sillage_admin' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sillage_admin')\gexec
SELECT 'CREATE ROLE sillage_app' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sillage_app')\gexec
ALTER ROLE sillage_admin LOGIN CREATEROLE CREATEDB PASSWORD '$admin_pw';
ALTER ROLE sillage_app LOGIN NOINHERIT PASSWORD '$app_pw';
SELECT 'CREATE DATABASE $DBNAME OWNER sillage_admin' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DBNAME')\gexec
SQL
    psql_su -d "$DBNAME" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS timescaledb" >/dev/null
    umask 077
    cat > "$ENVFILE" <<EOF
SILLAGE_DATABASE_URL='postgresql://sillage_app:$app_pw@127.0.0.1:$PORT/$DBNAME'
SILLAGE_ADMIN_DATABASE_URL='postgresql://sillage_admin:$admin_pw@127.0.0.1:$PORT/$DBNAME'
SILLAGE_SUPERUSER_DATABASE_URL='postgresql://postgres@/$DBNAME?host=$RUN&port=$PORT'
SILLAGE_PG_BINDIR='$(bindir)'
EOF
}

up() {
    ensure_os_user
    bindir >/dev/null
    [ -f "$PGDATA/PG_VERSION" ] || init_cluster
    if ! running; then
        say "starting PostgreSQL on 127.0.0.1:$PORT (log: $LOG)"
        touch "$LOG"; [ "$(id -u)" = 0 ] && chown "$DBUSER" "$LOG"
        as_db "$(bindir)/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 start >/dev/null \
            || { tail -n 20 "$LOG" >&2; die "PostgreSQL did not start"; }
    fi
    write_env
    say "up: $DBNAME on 127.0.0.1:$PORT ($(psql_su -d "$DBNAME" -tAc "SELECT 'TimescaleDB ' || extversion FROM pg_extension WHERE extname = 'timescaledb'"))"
}

down() {
    if [ -f "$PGDATA/PG_VERSION" ] && running; then
        as_db "$(bindir)/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
        say "stopped"
    else
        say "not running"
    fi
}

status() {
    if [ -f "$PGDATA/PG_VERSION" ] && running; then say "running on 127.0.0.1:$PORT"; else say "not running"; exit 3; fi
}

load_env() {
    set -a
    # shellcheck disable=SC1090
    . "$ENVFILE"
    set +a
}

cmd=${1:-}
shift || true
case "$cmd" in
up) up ;;
down) down ;;
status) status ;;
env) [ -f "$ENVFILE" ] || up; cat "$ENVFILE" ;;
exec)
    # Run a command with the database settings in its environment; starts the local cluster
    # unless SILLAGE_DATABASE_URL points elsewhere.
    if [ -z "${SILLAGE_DATABASE_URL:-}" ]; then
        up
        load_env
    fi
    exec "$@"
    ;;
*) echo "usage: $0 up|down|status|env|exec CMD..." >&2; exit 2 ;;
esac
