#!/usr/bin/env bash
# Install PostgreSQL with the TimescaleDB extension (Apache edition), the Debian way.
#
# - Debian 13 (trixie) and later: `postgresql-17` and `postgresql-17-timescaledb` are ordinary
#   binary packages; install them.
# - Debian 12 (bookworm): PostgreSQL 15 is packaged but TimescaleDB is not. Fetch Debian's own
#   trixie source package `timescaledb` (2.19.3, supports PG 15) through a *private* apt source
#   list (the system's sources are left untouched), and build it with the project's bootstrap
#   against `postgresql-server-dev-15`, Apache-licensed code only.
# - Anything else (a developer's laptop): use whatever `pg_config` finds if TimescaleDB is
#   already installed for it; otherwise stop and say what is missing.
#
# Idempotent: an existing installation is detected and reused (SILLAGE_TIMESCALEDB_REBUILD=1 forces
# the Debian 12 build, e.g. to check it). Prints the PostgreSQL bin
# directory on its last line of stdout (all progress goes to stderr).
set -euo pipefail

say() { printf 'install-timescaledb: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
fi

has_timescaledb() { # $1 = pg bindir
    local pgc="$1/pg_config"
    [ -x "$pgc" ] || return 1
    local lib share
    lib=$("$pgc" --pkglibdir) share=$("$pgc" --sharedir)
    [ -f "$share/extension/timescaledb.control" ] && ls "$lib"/timescaledb*.so >/dev/null 2>&1
}

# A developer may point at an existing installation.
if [ -n "${SILLAGE_PG_BINDIR:-}" ]; then
    has_timescaledb "$SILLAGE_PG_BINDIR" || die "SILLAGE_PG_BINDIR=$SILLAGE_PG_BINDIR has no TimescaleDB extension"
    echo "$SILLAGE_PG_BINDIR"; exit 0
fi

codename=""
if [ -r /etc/os-release ]; then
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release; echo "${VERSION_CODENAME:-}")
fi

apt_updated=0
apt_install() {
    if [ "$apt_updated" = 0 ]; then
        say "apt-get update"
        $SUDO apt-get update -qq >&2 || die "apt-get update failed (no access to Debian's archive?)"
        apt_updated=1
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2 \
        || die "apt-get install $* failed"
}

case "$codename" in
bookworm)
    PGV=15
    BINDIR=/usr/lib/postgresql/$PGV/bin
    if has_timescaledb "$BINDIR" && [ -z "${SILLAGE_TIMESCALEDB_REBUILD:-}" ]; then echo "$BINDIR"; exit 0; fi
    command -v apt-get >/dev/null || die "apt-get is required on Debian"
    [ -z "$SUDO" ] && [ "$(id -u)" != 0 ] && die "building TimescaleDB needs root or sudo to install packages"
    apt_install postgresql-$PGV postgresql-server-dev-$PGV cmake gcc make dpkg-dev \
        libssl-dev libkrb5-dev xz-utils
    work=$(mktemp -d /tmp/sillage-timescaledb.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || die "missing $keyring (package debian-archive-keyring)"
    mirror=${SILLAGE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    echo "deb-src [signed-by=$keyring] $mirror trixie main" > "$work/sources.list"
    aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
             -o "Dir::State::Lists=$work/lists" -o "APT::Sandbox::User=root")
    say "fetching Debian trixie's timescaledb source package (private source list)"
    apt-get "${aptopts[@]}" update -qq >&2 || die "cannot read trixie's source index from $mirror"
    (cd "$work" && apt-get "${aptopts[@]}" source -qq timescaledb >&2) \
        || die "apt-get source timescaledb failed"
    src=$(find "$work" -maxdepth 1 -type d -name 'timescaledb-*' | head -n 1)
    [ -n "$src" ] || die "no unpacked timescaledb source in $work"
    say "building $(basename "$src") against PostgreSQL $PGV (Apache edition)"
    (cd "$src" && ./bootstrap -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
        -DPG_CONFIG="$BINDIR/pg_config" -DSEND_TELEMETRY_DEFAULT=OFF -DUSE_TELEMETRY=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 \
        && make -C build -j"$(nproc)" >&2 \
        && $SUDO make -C build install >&2) || die "TimescaleDB build failed (see output above)"
    has_timescaledb "$BINDIR" || die "TimescaleDB build finished but the extension is not installed"
    echo "$BINDIR"
    ;;
trixie|forky|sid)
    PGV=17
    BINDIR=/usr/lib/postgresql/$PGV/bin
    if has_timescaledb "$BINDIR"; then echo "$BINDIR"; exit 0; fi
    apt_install postgresql-$PGV postgresql-$PGV-timescaledb
    has_timescaledb "$BINDIR" || die "postgresql-$PGV-timescaledb installed but the extension is missing"
    echo "$BINDIR"
    ;;
*)
    # Not Debian: use what is on PATH.
    if command -v pg_config >/dev/null 2>&1; then
        BINDIR=$(pg_config --bindir)
        has_timescaledb "$BINDIR" && { echo "$BINDIR"; exit 0; }
        die "PostgreSQL found at $BINDIR but not the TimescaleDB extension; install TimescaleDB for it (Apache edition is enough) or set SILLAGE_DATABASE_URL"
    fi
    die "no PostgreSQL found: install PostgreSQL 15+ and TimescaleDB, set SILLAGE_PG_BINDIR, or set SILLAGE_DATABASE_URL"
    ;;
esac
