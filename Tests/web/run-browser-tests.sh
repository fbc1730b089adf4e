#!/usr/bin/env bash
# The web app in a real browser: a real trellis-api (local development: plain-http cookies) on a fresh database seeded
# with the demo agency, driven by Playwright on Debian's chromium (Tests/web/test_web.py), axe-core on every page.
# Usage: run-browser-tests.sh ADMIN_URL PYTHON_VENV. Screenshots go to .build/web-screenshots (TRELLIS_WEB_SCREENSHOTS).
set -euo pipefail
cd "$(dirname "$0")/../.."
admin_url=${1:?admin URL of the test cluster}
venv=${2:?python venv with playwright}
source Tests/support/api-on-fresh-database.sh
# Every test signs in afresh, more often than the production limit of sign-ins per minute allows.
start_api TRELLIS_LOCAL_DEV=true LOG_LEVEL=warning RATE_LIMIT_SIGNINS_PER_MINUTE=1000
export TRELLIS_WEB_URL="http://127.0.0.1:$port" TRELLIS_WEB_DB="$owner_url"
export TRELLIS_WEB_SCREENSHOTS=${TRELLIS_WEB_SCREENSHOTS:-$PWD/.build/web-screenshots}
mkdir -p "$TRELLIS_WEB_SCREENSHOTS"
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider Tests/web
status=$?
set -e
if [ $status -ne 0 ]; then echo "--- trellis-api log (last 40 lines)"; tail -n 40 "$log"; fi
check_api_log
exit $status
