#!/usr/bin/env bash
# Trellis on Citus, given a Citus installation (this script never builds one): a coordinator and two workers on
# loopback, the database migrated and distributed (deploy/citus-distribute.sql), the demo agency seeded, trellis-api
# and trellis-worker on the coordinator, and the request-path smoke (Tests/deploy/request_path_smoke.py) run against
# it and against plain PostgreSQL (a database of the same coordinator without the extension) — every request must be
# answered the same. Then EXPLAIN of each statement the plan edit sent (read, with its parameters, from the coordinator's
# log), with the number of shards each one touches.
#
# Citus is not in Debian's archive: build it from its public source (citusdata/citus, v13.2 for PostgreSQL 15) with
# `./configure && make && make install` against this PostgreSQL; docs/scaling.md says how.
# The clusters are throwaway (fsync off) and live in a scratch folder that is removed at the end (KEEP_SCRATCH=1 keeps
# it); CITUS_EXPLAIN_FULL=1 prints the edit's plans whole. Usage: deploy/citus.sh [BIN_DIR]   (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$(cd "${1:-.build/debug}" && pwd)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pglib=$("$pgbin/pg_config" --pkglibdir 2>/dev/null || pg_config --pkglibdir)
python=${TRELLIS_PYTHON:-python3}

if [ ! -f "$pglib/citus.so" ]; then
    echo "citus: no Citus in $pglib (citus.so); build citusdata/citus v13.2 against $("$pgbin/postgres" --version) first (docs/scaling.md)" >&2
    exit 1
fi
for tool in trellis trellis-api trellis-worker; do
    [ -x "$bin/$tool" ] || { echo "citus: $bin/$tool not built (swift build)" >&2; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
scratch=$(mktemp -d /tmp/trellis-citus.XXXXXX)
chmod 755 "$scratch"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
declare -A port=([coordinator]=$(free_port) [worker1]=$(free_port) [worker2]=$(free_port))
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for node in coordinator worker1 worker2; do
        [ -f "$scratch/$node/postmaster.pid" ] && as_owner "$pgbin/pg_ctl" -D "$scratch/$node" stop -m immediate >/dev/null 2>&1 || true
    done
    [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$scratch"
}
trap cleanup EXIT

psql_on() {  # psql_on NODE DATABASE ARGS…
    local node=$1 db=$2; shift 2
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${port[$node]}" -U postgres -d "$db" "$@"
}

echo "▸ citus: coordinator on ${port[coordinator]}, workers on ${port[worker1]} and ${port[worker2]} ($(basename "$(dirname "$pgbin")"), $scratch)" >&2
mkdir -p "$scratch/logs"
[ "$(id -u)" = 0 ] && chown postgres "$scratch/logs"
for node in coordinator worker1 worker2; do
    mkdir -p "$scratch/$node"
    [ "$(id -u)" = 0 ] && chown postgres "$scratch/$node"
    as_owner "$pgbin/initdb" -D "$scratch/$node" -U postgres --auth=trust -E UTF8 --no-locale >"$scratch/logs/$node.initdb.log" 2>&1
    # The coordinator logs every statement of the API's role with its parameters (below), for the edit path's EXPLAIN.
    as_owner "$pgbin/pg_ctl" -D "$scratch/$node" -l "$scratch/logs/$node.log" -w start -o "-p ${port[$node]} -c listen_addresses=127.0.0.1 \
        -c unix_socket_directories=$scratch/$node -c shared_preload_libraries=citus,pg_stat_statements \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
        -c log_line_prefix='%m [%p] %u '" >/dev/null
done
for node in coordinator worker1 worker2; do
    psql_on "$node" postgres -c "CREATE DATABASE trellis"
    psql_on "$node" trellis -c "CREATE EXTENSION citus"
done
psql_on coordinator postgres -c "CREATE DATABASE trellis_plain"
psql_on coordinator trellis -c "SELECT citus_set_coordinator_host('127.0.0.1', ${port[coordinator]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${port[worker1]})" -c "SELECT citus_add_node('127.0.0.1', ${port[worker2]})" >/dev/null
echo "▸ citus: $(psql_on coordinator trellis -At -c "SELECT citus_version()")" >&2
psql_on coordinator trellis -At -c "SELECT 'node ' || nodename || ':' || nodeport || ' group ' || groupid FROM pg_dist_node ORDER BY groupid" >&2

# The same migrations on both databases; only the Citus one is distributed.
for db in trellis trellis_plain; do
    url="postgres://postgres@127.0.0.1:${port[coordinator]}/$db?sslmode=disable"
    DATABASE_URL=$url "$bin/trellis" migrate >"$scratch/migrate-$db.log" 2>&1 || { cat "$scratch/migrate-$db.log" >&2; exit 1; }
done
echo "▸ citus: migrated; distributing (deploy/citus-distribute.sql)" >&2
psql_on coordinator trellis -f deploy/citus-distribute.sql >"$scratch/distribute.log" 2>&1 || { cat "$scratch/distribute.log" >&2; exit 1; }
psql_on coordinator trellis -At -F ' ' -c "
    SELECT CASE WHEN p.partmethod = 'n' THEN 'reference  ' ELSE 'distributed' END, p.logicalrelid::text,
           (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) || ' shards'
    FROM pg_dist_partition p ORDER BY 1 DESC, 2" | sed 's/^/  /' >&2
echo "  local      $(psql_on coordinator trellis -At -c "
    SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)")" >&2

psql_on coordinator trellis -c "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'" \
    -c "ALTER ROLE trellis_worker WITH LOGIN PASSWORD 'trellis_worker'" \
    -c "ALTER ROLE trellis_api SET log_min_duration_statement = 0" \
    -c "ALTER ROLE trellis_definer WITH LOGIN"
# Run in the Citus database, so that the roles change on the workers too. Citus opens its connections to the workers as the current user: inside the credential functions (SECURITY DEFINER)
# that is trellis_definer, which must be able to log in on the workers (here by trust on loopback; a deployment gives
# it a password through pg_dist_authinfo, docs/scaling.md).
start_api() {  # start_api DATABASE PORT
    DATABASE_URL="postgres://trellis_api:trellis_api@127.0.0.1:${port[coordinator]}/$1?sslmode=disable" PORT=$2 LOG_LEVEL=warning \
        RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 TRELLIS_LOCAL_DEV=true "$bin/trellis-api" >>"$scratch/api-$1.log" 2>&1 &
    pids+=($!)
    echo $! >"$scratch/api-pid-$1"
}
api_ready() {  # api_ready PORT
    for _ in $(seq 1 120); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$1/readyz', timeout=2)" 2>/dev/null && return 0
        sleep 0.25
    done
    return 1
}
for db in trellis trellis_plain; do
    owner_url="postgres://postgres@127.0.0.1:${port[coordinator]}/$db?sslmode=disable"
    DATABASE_URL=$owner_url "$bin/trellis" seed-demo >"$scratch/seed-$db.log" 2>&1 || { cat "$scratch/seed-$db.log" >&2; exit 1; }
    token=$(DATABASE_URL=$owner_url "$bin/trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)
    echo "$token" >"$scratch/token-$db"
    p=$(free_port)
    echo "$p" >"$scratch/api-port-$db"
    start_api "$db" "$p"
    DATABASE_URL="postgres://trellis_worker:trellis_worker@127.0.0.1:${port[coordinator]}/$db?sslmode=disable" WORKER_POLL_MS=200 \
        LOG_LEVEL=warning "$bin/trellis-worker" >"$scratch/worker-$db.log" 2>&1 &
    pids+=($!)
    echo $! >"$scratch/worker-pid-$db"
done
for db in trellis trellis_plain; do api_ready "$(cat "$scratch/api-port-$db")"; done

status=0
for db in trellis_plain trellis; do
    label=$([ "$db" = trellis ] && echo citus || echo plain)
    [ "$label" = citus ] && smoke_start=$(date +%s.%N)
    echo "▸ request-path smoke on $label PostgreSQL" >&2
    "$python" Tests/deploy/request_path_smoke.py --api "http://127.0.0.1:$(cat "$scratch/api-port-$db")" --token "$(cat "$scratch/token-$db")" \
        >"$scratch/smoke-$label.out" 2>"$scratch/smoke-$label.err" || status=1
    grep -v '^patch_window=' "$scratch/smoke-$label.out" | sed "s/^/  $label  /" >&2
    cat "$scratch/smoke-$label.err" >&2
done
smoke_end=$(date +%s.%N)
if diff <(grep -v '^patch_window=' "$scratch/smoke-plain.out") <(grep -v '^patch_window=' "$scratch/smoke-citus.out") >"$scratch/smoke.diff"; then
    same=1
else
    same=0; status=1; cat "$scratch/smoke.diff" >&2
fi

# The edit's statements, as the API sent them (the coordinator logs trellis_api's statements with their parameters),
# explained again as trellis_api in a transaction scoped to the demo agency: the shards each one touches.
window=$(grep '^patch_window=' "$scratch/smoke-citus.out" | cut -d= -f2)
agency=$(psql_on coordinator trellis -At -c "SELECT id FROM agencies WHERE slug = 'demo'")
echo "▸ the plan edit (PATCH /v1/plans/{id}/tasks/{taskId}) on Citus: EXPLAIN of each statement it sent" >&2
"$python" deploy/citus-explain.py "$scratch/logs/coordinator.log" "$window" "$agency" \
    "postgres://trellis_api:trellis_api@127.0.0.1:${port[coordinator]}/trellis?sslmode=disable" "$smoke_start,$smoke_end" >&2
# CITUS_LOAD=1: the same load on both (Benchmarks/lib/scale_load.py, CITUS_LOAD_AGENCIES agencies), counted in requests per
# second of CPU of the API and every node's PostgreSQL: what the coordinator and the extra hop cost per request.
if [ "${CITUS_LOAD:-0}" = 1 ]; then
    psql_on coordinator trellis -c "ALTER ROLE trellis_api RESET log_min_duration_statement"
    for db in trellis_plain trellis; do
        label=$([ "$db" = trellis ] && echo citus || echo plain)
        kill -TERM "$(cat "$scratch/api-pid-$db")"
        sleep 1
        p=$(free_port)
        start_api "$db" "$p"
        api_ready "$p" || { echo "citus: the API on $db did not come back" >&2; exit 1; }
        : >"$scratch/load-tokens-$db"
        for i in $(seq 1 "${CITUS_LOAD_AGENCIES:-5}"); do
            DATABASE_URL="postgres://postgres@127.0.0.1:${port[coordinator]}/$db?sslmode=disable" "$bin/trellis" agency create \
                --name "Load $i" --slug "load-$i" --owner-email "owner@load-$i.example" | grep -o 'trl_[A-Za-z0-9_-]*' >>"$scratch/load-tokens-$db"
        done
        server="$(cat "$scratch/api-pid-$db"),$(head -n 1 "$scratch/coordinator/postmaster.pid")"
        [ "$db" = trellis ] && server="$server,$(head -n 1 "$scratch/worker1/postmaster.pid"),$(head -n 1 "$scratch/worker2/postmaster.pid")"
        "$python" Benchmarks/lib/scale_load.py --api "http://127.0.0.1:$p" --tokens "$scratch/load-tokens-$db" --server-pids "$server" \
            --worker-pid "$(cat "$scratch/worker-pid-$db")" --db-url "postgres://postgres@127.0.0.1:${port[coordinator]}/$db?sslmode=disable" \
            --clients 4 --plans-per-client 2 --seconds "${CITUS_LOAD_SECONDS:-10}" --threads 8 | sed "s/^scale /citus_load db=$label /" >&2
    done
fi

# A later migration that adds a tenant table, written as sql/0012 says (created, handed to
# trellis_distribute_tenant_table, then its foreign keys and its policy), applied by `trellis migrate` to the distributed
# database: it must come out distributed and colocated with the other tenant tables.
mkdir -p "$scratch/sql-next"
cp sql/*.sql "$scratch/sql-next/"
cat >"$scratch/sql-next/9999_probe_client_notes.sql" <<'EOF_SQL'
CREATE TABLE client_notes (
    agency_id uuid NOT NULL, id uuid NOT NULL, client_id uuid NOT NULL, body text NOT NULL,
    PRIMARY KEY (agency_id, id)
);
SELECT trellis_distribute_tenant_table('client_notes');
ALTER TABLE client_notes ADD FOREIGN KEY (agency_id) REFERENCES agencies (id);
ALTER TABLE client_notes ADD FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE;
SELECT trellis_protect_tenant_table('client_notes');
EOF_SQL
if DATABASE_URL="postgres://postgres@127.0.0.1:${port[coordinator]}/trellis?sslmode=disable" "$bin/trellis" migrate --sql-dir "$scratch/sql-next" \
    >"$scratch/migrate-next.log" 2>&1; then
    psql_on coordinator trellis -At -c "
        SELECT 'new tenant table: client_notes ' || CASE WHEN p.colocationid = q.colocationid THEN 'distributed, colocated with clients, '
               ELSE 'distributed apart from clients, ' END
               || (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) || ' shards, '
               || (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = 'client_notes'::regclass AND k.contype = 'f') || ' foreign keys'
        FROM pg_dist_partition p, pg_dist_partition q
        WHERE p.logicalrelid = 'client_notes'::regclass AND q.logicalrelid = 'clients'::regclass" >&2
    new_table=1
else
    cat "$scratch/migrate-next.log" >&2
    new_table=0; status=1
fi

echo "citus smoke requests=$(grep -vc '^patch_window=' "$scratch/smoke-citus.out") same_as_plain=$same new_tenant_table_distributed=$new_table status=$status" >&2
exit "$status"
