#!/usr/bin/env bash
# The web app in a real browser: a real trellis-api (local development: plain-http cookies) on a fresh database seeded
# with the demo agency, driven by Playwright on Debian's chromium (Tests/web/test_web.py), axe-core on every page.
# Usage: run-browser-tests.sh ADMIN_URL PYTHON_VENV. Screenshots go to .build/web-screenshots (TRELLIS_WEB_SCREENSHOTS).
set -euo pipefail
cd "$(dirname "$0")/../.."
admin_url=${1:?admin URL of the test cluster}
venv=${2:?python venv with playwright}
bin=.build/debug

db="web_$$"
host_url=${admin_url%/*}
owner_url="$host_url/$db?sslmode=disable"
api_url=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme,'trellis_api:trellis_api@'+p.hostname+':'+str(p.port),p.path,p.query,'')))" "$owner_url")
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/trellis-web-api.XXXXXX.log)
cleanup() {
    [ -n "${api_pid:-}" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

DATABASE_URL=$owner_url "$bin/trellis" migrate >/dev/null
DATABASE_URL=$owner_url "$bin/trellis" seed-demo >/dev/null
psql "$owner_url" -qc "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'" >/dev/null
DATABASE_URL=$api_url PORT=$port TRELLIS_LOCAL_DEV=true LOG_LEVEL=warning "$bin/trellis-api" >"$log" 2>&1 &
api_pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2).status == 200: break
    except Exception: time.sleep(0.2)
PY
export TRELLIS_WEB_URL="http://127.0.0.1:$port" TRELLIS_WEB_DB="$owner_url"
export TRELLIS_WEB_SCREENSHOTS=${TRELLIS_WEB_SCREENSHOTS:-$PWD/.build/web-screenshots}
mkdir -p "$TRELLIS_WEB_SCREENSHOTS"
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/web
status=$?
set -e
if [ $status -ne 0 ]; then echo "--- trellis-api log (last 40 lines)"; tail -n 40 "$log"; fi
if grep -q 'unhandled error' "$log"; then echo "the API logged an unhandled error during the browser tests:" >&2; grep 'unhandled error' "$log" | head -n 5 >&2; exit 1; fi
exit $status
