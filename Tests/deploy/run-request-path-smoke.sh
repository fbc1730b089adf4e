#!/usr/bin/env bash
# The request-path smoke that deploy/citus.sh runs on Citus (Tests/deploy/request_path_smoke.py), here on plain
# PostgreSQL in every test run, so the script keeps matching the API: a real trellis-api and trellis-worker on a fresh
# database seeded with the demo agency. Prints the smoke's requests and `smoke requests=… status=…`.
# Usage: run-request-path-smoke.sh ADMIN_URL
set -euo pipefail
cd "$(dirname "$0")/../.."
admin_url=${1:?admin URL of the test cluster}
source Tests/support/api-on-fresh-database.sh
start_api TRELLIS_LOCAL_DEV=true LOG_LEVEL=warning
psql "$owner_url" -qc "ALTER ROLE trellis_worker WITH LOGIN PASSWORD 'trellis_worker'" >/dev/null
worker_url=${api_url/trellis_api:trellis_api@/trellis_worker:trellis_worker@}
DATABASE_URL=$worker_url WORKER_POLL_MS=200 LOG_LEVEL=warning "$bin/trellis-worker" >"$log.worker" 2>&1 &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null; cleanup' EXIT
token=$(DATABASE_URL=$owner_url "$bin/trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)
set +e
"${TRELLIS_PYTHON:-python3}" Tests/deploy/request_path_smoke.py --api "http://127.0.0.1:$port" --token "$token" | tee "$log.smoke" | sed 's/^/  /'
status=${PIPESTATUS[0]}
set -e
echo "smoke requests=$(grep -vc '^patch_window=' "$log.smoke") status=$status"
if [ "$status" -ne 0 ]; then echo "--- trellis-api log (last 40 lines)"; tail -n 40 "$log"; echo "--- worker"; tail -n 20 "$log.worker"; fi
check_api_log
exit "$status"
