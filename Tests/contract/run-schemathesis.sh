#!/usr/bin/env bash
# schemathesis against a real trellis-api (production settings: https-only webhooks, Secure cookies) on a
# fresh database of the test cluster, with an owner's token, every check on, for a bounded time.
# Usage: run-schemathesis.sh ADMIN_URL PYTHON_VENV [SECONDS]
# Excluded: only the routes that end the fuzzer's own credentials (sign-out, revoking tokens).
set -euo pipefail
cd "$(dirname "$0")/../.."
admin_url=${1:?admin URL of the test cluster}
venv=${2:?python venv with schemathesis}
seconds=${3:-${TRELLIS_FUZZ_SECONDS:-150}}
bin=.build/debug

db="fuzz_$$"
host_url=${admin_url%/*}
owner_url="$host_url/$db?sslmode=disable"
api_url=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme,'trellis_api:trellis_api@'+p.hostname+':'+str(p.port),p.path,p.query,'')))" "$owner_url")
psql "$admin_url" -qc "CREATE DATABASE $db" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp /tmp/trellis-fuzz-api.XXXXXX.log)
cleanup() {
    [ -n "${api_pid:-}" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

DATABASE_URL=$owner_url "$bin/trellis" migrate >/dev/null
DATABASE_URL=$owner_url "$bin/trellis" seed-demo >/dev/null
psql "$owner_url" -qc "ALTER ROLE trellis_api WITH LOGIN PASSWORD 'trellis_api'" >/dev/null
token=$(DATABASE_URL=$owner_url "$bin/trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)

DATABASE_URL=$api_url PORT=$port PUBLIC_BASE_URL="https://trellis.example" RATE_LIMIT_REQUESTS_PER_MINUTE=1000000 LOG_LEVEL=warning \
    "$bin/trellis-api" >"$log" 2>&1 &
api_pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2).status == 200: break
    except Exception: time.sleep(0.2)
PY

set +e
"$venv/bin/schemathesis" --config-file Tests/contract/schemathesis.toml run "http://127.0.0.1:$port/openapi.yaml" \
    --url "http://127.0.0.1:$port" -H "Authorization: Bearer $token" --max-time "$seconds" \
    --exclude-path /v1/auth/logout --exclude-path '/v1/tokens/{tokenId}/revoke' \
    ${TRELLIS_FUZZ_ARGS:-} --no-color --seed "${TRELLIS_FUZZ_SEED:-20261201}" >"$log.schemathesis" 2>&1
status=$?
set -e
if [ $status -ne 0 ]; then
    cat "$log.schemathesis"
    echo "--- trellis-api log (last 40 lines)"; tail -n 40 "$log"
fi
grep -E "^(=+ .* in [0-9.]+s =+|Test cases:|  [0-9]+ generated.*)$" "$log.schemathesis" || tail -n 3 "$log.schemathesis"
if grep -q 'unhandled error' "$log"; then echo "the API logged an unhandled error during the run:" >&2; grep 'unhandled error' "$log" | head -n 5 >&2; exit 1; fi
exit $status
