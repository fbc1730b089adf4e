# Sourced by Tests/contract/run-schemathesis.sh and Tests/web/run-browser-tests.sh: a fresh database of the test cluster,
# migrated and seeded with the demo agency, and a debug trellis-api on a free port connecting as trellis_api.
# Needs: $admin_url. Sets: $db, $owner_url, $port, $log, $api_pid; removes both on exit.
# Usage: start_api [VAR=value …]   (extra environment for trellis-api)
bin=.build/debug
db="t_${RANDOM}_$$"
host_url=${admin_url%/*}
owner_url="$host_url/$db?sslmode=disable"
api_url=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme,'trellis_api:trellis_api@'+p.hostname+':'+str(p.port),p.path,p.query,'')))" "$owner_url")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/trellis-test-api.XXXXXX.log)
cleanup() {
    [ -n "${api_pid:-}" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_api() {
    psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
    DATABASE_URL=$owner_url "$bin/trellis" migrate >/dev/null
    DATABASE_URL=$owner_url "$bin/trellis" seed-demo >/dev/null
    psql "$owner_url" -qc "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'" >/dev/null
    env DATABASE_URL="$api_url" PORT="$port" "$@" "$bin/trellis-api" >"$log" 2>&1 &
    api_pid=$!
    python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2).status == 200: break
    except Exception: time.sleep(0.2)
PY
}

# The API must not have logged an unhandled error (a 500) during the run.
check_api_log() {
    if grep -q 'unhandled error' "$log"; then echo "the API logged an unhandled error during the run:" >&2; grep 'unhandled error' "$log" | head -n 5 >&2; return 1; fi
}
