#!/usr/bin/env bash
# High availability, tested: pg_auto_failover (Debian's postgresql-15-auto-failover) with a monitor and two nodes
# on loopback in synchronous replication; trellis-api and trellis-worker on the multi-host URL
# (target_session_attrs=read-write); API writes and job batches going on; then the primary node dies — its keeper
# and its postmaster killed with SIGKILL together, as when the machine goes away (the keeper alone would restart
# the postmaster, and no failover would happen). The load script (failover_load.py) prints
#   failover promoted_after_s=… platform_back_after_s=… jobs=… completed=… lost=0 writes_lost=0 …
# and fails when a confirmed write or job is missing, a job never completes, or the API answers a 5xx but 503.
#
# The monitor is tuned to decide within seconds (health checks every second, a node unhealthy after 3 s, the old
# primary given 3 s to demote); pg_auto_failover's defaults (5 s checks, 20 s, 30 s) make the same run take about
# a minute. Usage: Tests/deploy/failover.sh [BIN_DIR]   (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=$(cd "${1:-.build/debug}" && pwd)
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
python=${TRELLIS_PYTHON:-python3}

if ! command -v pg_autoctl >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || { echo "pg_autoctl not found: sudo apt-get install postgresql-15-auto-failover" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-auto-failover >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-auto-failover >/dev/null; }
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
monitor_port=$(free_port); port1=$(free_port); port2=$(free_port); api_port=$(free_port)
scratch=$(mktemp -d /tmp/trellis-failover.XXXXXX)
chmod 755 "$scratch"
mkdir -p "$scratch/pg"
[ "$(id -u)" = 0 ] && chown postgres "$scratch/pg"
# pg_autoctl keeps its state under XDG folders: inside the scratch folder, not the postgres user's home.
owner_env=(env "PATH=$pgbin:$PATH" "XDG_CONFIG_HOME=$scratch/pg/config" "XDG_DATA_HOME=$scratch/pg/data")
[ "$(id -u)" = 0 ] && owner_env=(runuser -u postgres -- "${owner_env[@]}")
as_owner() { "${owner_env[@]}" "$@"; }
declare -A group=()
api_pid= worker_pid=
cleanup() {
    for pid in $api_pid $worker_pid; do kill -KILL "$pid" 2>/dev/null || true; done
    # Each live postmaster with its children first: the monitor's health-check worker is not in the keeper's
    # process group and outlived it once, holding a CPU slice for the rest of the run.
    for d in "$scratch"/pg/monitor "$scratch"/pg/node1 "$scratch"/pg/node2; do
        if [ -f "$d/postmaster.pid" ]; then
            pm=$(head -n 1 "$d/postmaster.pid")
            kill -KILL $(pgrep -P "$pm" 2>/dev/null) "$pm" 2>/dev/null || true
        fi
    done
    for pgid in "${group[@]}"; do kill -KILL -- "-$pgid" 2>/dev/null || true; done
    sleep 0.5
    [ "${KEEP_SCRATCH:-0}" = 1 ] || rm -rf "$scratch"
}
trap cleanup EXIT

# Each pg_autoctl runs in a process group of its own, so one kill takes the keeper and its postgres together.
start_group() {  # start_group NAME COMMAND…
    local name=$1; shift
    setsid "${owner_env[@]}" "$@" >"$scratch/$name.log" 2>&1 &
    group[$name]=$!
}
monitor_url="postgres://autoctl_node@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable"
state() { as_owner pg_autoctl show state --pgdata "$scratch/pg/monitor" 2>/dev/null || true; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND…
    local seconds=$1 what=$2; shift 2
    for _ in $(seq 1 $((seconds * 4))); do "$@" && return 0; sleep 0.25; done
    echo "failover: $what did not happen in ${seconds}s" >&2; state >&2; tail -n 20 "$scratch"/*.log >&2; exit 1
}

echo "▸ pg_auto_failover: monitor on $monitor_port, nodes on $port1 and $port2 (synchronous replication)" >&2
start_group monitor pg_autoctl create monitor --pgdata "$scratch/pg/monitor" --pgport "$monitor_port" \
    --hostname 127.0.0.1 --auth trust --no-ssl --run
wait_for 60 "the monitor" bash -c "psql -X -q -h 127.0.0.1 -p $monitor_port -U postgres -d pg_auto_failover -c 'SELECT 1' -o /dev/null 2>/dev/null"
psql -X -q -h 127.0.0.1 -p "$monitor_port" -U postgres -d pg_auto_failover \
    -c "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" \
    -c "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" \
    -c "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" \
    -c "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000" \
    -c "SELECT pg_reload_conf()" -o /dev/null
for n in 1 2; do
    port_var=port$n
    start_group "node$n" pg_autoctl create postgres --pgdata "$scratch/pg/node$n" --pgport "${!port_var}" \
        --hostname 127.0.0.1 --listen 127.0.0.1 --name "node$n" --dbname trellis --auth trust --no-ssl --monitor "$monitor_url" --run
    if [ "$n" = 1 ]; then
        wait_for 90 "node1 as the primary" bash -c "psql -X -At -h 127.0.0.1 -p $port1 -U postgres -d trellis -c 'SELECT NOT pg_is_in_recovery()' 2>/dev/null | grep -qx t"
    fi
done
# The standby's base backup waits for a checkpoint on the primary: ask for one until the standby is in sync.
in_sync() {
    psql -X -q -h 127.0.0.1 -p "$port1" -U postgres -d trellis -c CHECKPOINT >/dev/null 2>&1 || true
    [ "$(psql -X -At -h 127.0.0.1 -p "$port1" -U postgres -d trellis -c "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')" 2>/dev/null)" = 1 ] \
        && [ -n "$(psql -X -At -h 127.0.0.1 -p "$port1" -U postgres -d trellis -c "SHOW synchronous_standby_names" 2>/dev/null)" ]
}
wait_for 120 "node2 in synchronous replication" in_sync
sync_names=$(psql -X -At -h 127.0.0.1 -p "$port1" -U postgres -d trellis -c "SHOW synchronous_standby_names")
echo "▸ primary node1, standby node2 ($sync_names)" >&2

hosts="127.0.0.1:$port1,127.0.0.1:$port2"
params="target_session_attrs=read-write&connect_timeout=2&sslmode=disable"
owner_url="postgres://postgres@$hosts/trellis?$params"
DATABASE_URL=$owner_url "$bin/trellis" migrate >/dev/null
DATABASE_URL=$owner_url "$bin/trellis" seed-demo >/dev/null
psql -X -q "$owner_url" -c "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'" -c "ALTER ROLE trellis_worker WITH LOGIN PASSWORD 'trellis_worker'"
token=$(DATABASE_URL=$owner_url "$bin/trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)

echo "▸ trellis-api and trellis-worker on postgres://…@$hosts/trellis?target_session_attrs=read-write" >&2
DATABASE_URL="postgres://trellis_api:trellis_api@$hosts/trellis?$params" PORT=$api_port LOG_LEVEL=warning \
    RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 TRELLIS_LOCAL_DEV=true "$bin/trellis-api" >"$scratch/api.log" 2>&1 &
api_pid=$!
# A short lease: jobs that were running on the dead primary come back after 5 s, not the default 30.
DATABASE_URL="postgres://trellis_worker:trellis_worker@$hosts/trellis?$params" WORKER_QUEUES="failover=20,default=2" \
    WORKER_LEASE_SECONDS=5 WORKER_POLL_MS=500 LOG_LEVEL=warning "$bin/trellis-worker" >"$scratch/worker.log" 2>&1 &
worker_pid=$!
api_ready() { python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$api_port/readyz', timeout=2)" 2>/dev/null; }
wait_for 60 "the API's readiness" api_ready

kill_primary="kill -KILL -- -${group[node1]}; kill -KILL \$(head -n 1 $scratch/pg/node1/postmaster.pid) 2>/dev/null || true"
set +e
"$python" Tests/deploy/failover_load.py --api "http://127.0.0.1:$api_port" --token "$token" \
    --db-url "$owner_url" --standby-url "postgres://postgres@127.0.0.1:$port2/trellis?sslmode=disable&connect_timeout=1" \
    --kill "$kill_primary"
status=$?
set -e
kill -0 "$api_pid" 2>/dev/null || { echo "failover: trellis-api exited" >&2; status=1; }
kill -0 "$worker_pid" 2>/dev/null || { echo "failover: trellis-worker exited" >&2; status=1; }
if [ "$status" != 0 ]; then
    state >&2
    echo "── api.log" >&2; tail -n 30 "$scratch/api.log" >&2
    echo "── worker.log" >&2; tail -n 30 "$scratch/worker.log" >&2
fi
exit "$status"
