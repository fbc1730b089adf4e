#!/usr/bin/env bash
# The README's second command: the whole test suite against its own throwaway PostgreSQL cluster.
# Each test suite then copies a migrated template database for itself (Tests/ and TrellisTestSupport).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

port=${TRELLIS_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
scratch=$(mktemp -d /tmp/trellis-test.XXXXXX)
chmod 755 "$scratch"
cluster="$scratch/postgres"
cleanup() {
    deploy/local-postgres.sh stop "$cluster" || true
    rm -rf "$scratch"
}
trap cleanup EXIT

# The exports are read back by the real readers (MPXJ, icalendar, csv); Chromium screenshots the Gantt and drives the web app.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "▸ installing chromium (Debian) for the Gantt screenshot test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
        || echo "chromium could not be installed: the screenshot test will fail" >&2
fi
venv=.build/test-readers-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/readers/requirements.txt
export TRELLIS_PYTHON="$PWD/$venv/bin/python"

echo "▸ throwaway PostgreSQL on 127.0.0.1:$port (fsync, full page writes and synchronous commit off: nothing here is kept)"
deploy/local-postgres.sh start "$cluster" "$port" throwaway
export TRELLIS_TEST_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

echo "▸ building"
swift build --build-tests
echo "▸ the systemd units in deploy/systemd (systemd-analyze verify)"
if ! command -v systemd-analyze >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null 2>&1 || true
fi
Tests/deploy/verify-units.sh .build/debug
if [ $# -eq 0 ] || [ "${TRELLIS_DEPLOY:-}" = 1 ]; then
    echo "▸ a pgBackRest backup and a point-in-time restore (Tests/deploy/backup-restore.sh)"
    Tests/deploy/backup-restore.sh .build/debug
    echo "▸ failover: pg_auto_failover, the primary killed under load (Tests/deploy/failover.sh)"
    Tests/deploy/failover.sh .build/debug
fi
if [ $# -eq 0 ] || [ "${TRELLIS_DEPLOY:-}" = 1 ]; then
    # The smoke deploy/citus.sh runs on Citus (which CI cannot install), here on plain PostgreSQL.
    echo "▸ the request-path smoke on plain PostgreSQL (Tests/deploy/run-request-path-smoke.sh)"
    Tests/deploy/run-request-path-smoke.sh "$TRELLIS_TEST_ADMIN_URL"
fi
if [ $# -eq 0 ] || [ "${TRELLIS_FUZZ:-}" = 1 ]; then
    # The whole contract fuzzed against a real trellis-api (skipped when only some tests are asked for).
    echo "▸ schemathesis over docs/openapi.yaml (every check, ${TRELLIS_FUZZ_SECONDS:-150} s)"
    Tests/contract/run-schemathesis.sh "$TRELLIS_TEST_ADMIN_URL" "$venv" "${TRELLIS_FUZZ_SECONDS:-150}"
fi
if [ $# -eq 0 ] || [ "${TRELLIS_BROWSER:-}" = 1 ]; then
    # The web app in Debian's chromium: sign-in, Today, a plan edit, a conflict, the heatmap, a phone, axe-core on every page.
    echo "▸ the web app in a real browser (Tests/web)"
    Tests/web/run-browser-tests.sh "$TRELLIS_TEST_ADMIN_URL" "$venv"
fi
echo "▸ testing"
swift test --skip-build "$@"
