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
source Tests/support/api-on-fresh-database.sh
start_api PUBLIC_BASE_URL="https://trellis.example" RATE_LIMIT_REQUESTS_PER_MINUTE=1000000 LOG_LEVEL=warning
token=$(DATABASE_URL=$owner_url "$bin/trellis" token create --agency demo --email olivia@northwind.example | grep -o 'trl_[A-Za-z0-9_-]*' | head -n 1)

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
check_api_log
exit $status
