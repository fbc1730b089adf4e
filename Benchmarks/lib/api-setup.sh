# Shared by Benchmarks/api and Benchmarks/web (sourced): the release binaries, a throwaway cluster with the demo
# agency and an owner's token, and release `trellis-api` processes on it, all stopped when the script exits.
# Needs: $root (the checkout), the current directory at it.

# bench_release_binaries NO_BUILD DIR… — rebuilds trellis and trellis-api unless NO_BUILD is 1, when either is missing
# or older than a file under DIR… or the manifest; sets $trellis.
bench_release_binaries() {
    local no_build=$1 stale=0 binary; shift
    for binary in .build/release/trellis .build/release/trellis-api; do
        if [[ ! -x "$binary" ]] || [[ -n "$(find "$@" Package.swift -newer "$binary" -print -quit 2>/dev/null)" ]]; then stale=1; fi
    done
    if [[ $stale = 1 && "$no_build" != 1 ]]; then
        echo "▸ building release binaries (about 10 minutes on 2 cores)" >&2
        # One --product per invocation: given two, SwiftPM builds only the last one.
        swift build -c release --product trellis-api >&2
        swift build -c release --product trellis >&2
    fi
    trellis=$root/.build/release/trellis
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bench_pids=()
bench_cleanup() {
    local pid
    for pid in "${bench_pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    [[ -n "${scratch:-}" ]] || return 0
    deploy/local-postgres.sh stop "$scratch/postgres" || true
    rm -rf "$scratch"
}

# bench_database NAME — a throwaway cluster on a free port (deploy/local-postgres.sh), migrated, with the demo agency;
# sets scratch (a folder removed at exit), port, owner_url, api_url (as the API's role) and token (Olivia's).
bench_database() {
    port=$(free_port)
    scratch=$(mktemp -d "/tmp/trellis-$1-bench.XXXXXX")
    chmod 755 "$scratch"
    trap bench_cleanup EXIT
    echo "▸ PostgreSQL on 127.0.0.1:$port ($scratch)" >&2
    deploy/local-postgres.sh start "$scratch/postgres" "$port" throwaway
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE trellis_bench"
    owner_url="postgres://postgres@127.0.0.1:$port/trellis_bench?sslmode=disable"
    DATABASE_URL=$owner_url "$trellis" migrate >/dev/null
    DATABASE_URL=$owner_url "$trellis" seed-demo >/dev/null
    psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d trellis_bench -c "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'"
    api_url="postgres://trellis_api:trellis_api@127.0.0.1:$port/trellis_bench?sslmode=disable"
    token=$(DATABASE_URL=$owner_url "$trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)
}

# bench_api PORT LOG [VAR=value …] — a release trellis-api on PORT with request logs on and the per-credential budget
# lifted (every wrk connection shares one token or session, on purpose); its output in $scratch/LOG.log. Not in $(…):
# the process must be this shell's child.
bench_api() {
    local api_port=$1 log=$2; shift 2
    env DATABASE_URL="$api_url" PORT="$api_port" LOG_LEVEL=info RATE_LIMIT_REQUESTS_PER_MINUTE=100000000 TRELLIS_LOCAL_DEV=true "$@" \
        "$root/.build/release/trellis-api" >"$scratch/$log.log" 2>&1 &
    bench_pids+=($!)
}

# bench_ready PORT… — waits until each API answers /readyz (20 s at most each).
bench_ready() {
    local p
    for p in "$@"; do
        for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
    done
}
