#!/usr/bin/env bash
# A PostgreSQL cluster in a folder: `local-postgres.sh start DIR PORT [durable|throwaway]`, `local-postgres.sh stop DIR`.
# durable (the default) keeps PostgreSQL's own settings: fsync, full page writes, synchronous commit, so the data
# survives a power cut. throwaway turns those off, for test and benchmark clusters whose data nobody keeps.
# Installs Debian's postgresql package if the server binaries are missing. initdb refuses to run as
# root, so as root the cluster belongs to the `postgres` system user.
set -euo pipefail

cmd=${1:?usage: local-postgres.sh start DIR PORT | stop DIR}
dir=${2:?cluster directory}

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

pgbin=$(find_bin || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing PostgreSQL (Debian package postgresql)…" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq postgresql >/dev/null
        pgbin=$(find_bin)
    else
        echo "PostgreSQL server binaries not found: sudo apt-get install postgresql" >&2
        exit 1
    fi
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    port=${3:?port}
    mode=${4:-durable}
    case "$mode" in
    durable) durability="" ;;
    throwaway) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
    *) echo "mode must be durable or throwaway, not $mode" >&2; exit 2 ;;
    esac
    if [ "$(id -u)" = 0 ]; then
        # The cluster belongs to `postgres`, which must be able to reach it: a checkout under a private
        # home (/root is 0700) gets traverse-only permission on the way, and says so.
        d=$(dirname "$(realpath -m "$dir")")
        while [ "$d" != "/" ]; do
            if [ -d "$d" ] && ! runuser -u postgres -- test -x "$d"; then
                chmod o+x "$d"
                echo "note: gave others traverse (x) permission on $d so the postgres user reaches the cluster" >&2
            fi
            d=$(dirname "$d")
        done
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
        as_owner "$pgbin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-locale >"$dir.initdb.log" 2>&1 \
            || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    if as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        exit 0
    fi
    # pg_stat_statements (RoundTripTests and the benchmarks count statements with it) keeps 20,000 statements: a cluster
    # that served a few test runs held 5,000, the default, and then dropped the least used, a test's own newest ones.
    as_owner "$pgbin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=20000 $durability" \
        start >/dev/null || { tail -n 30 "$dir/server.log" >&2; exit 1; }
    ;;
stop)
    if [ -f "$dir/PG_VERSION" ]; then
        as_owner "$pgbin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
