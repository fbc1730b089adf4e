#!/usr/bin/env bash
# The README's first command: the whole platform on this machine. Builds, then `trellis dev` starts an
# embedded PostgreSQL under .trellis/, migrates, seeds the demo agency, runs API, worker and scheduler,
# and prints the URL and an API token. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
echo "▸ building (the first build takes about 15 minutes)…"
swift build --product trellis >/dev/null
swift build >/dev/null
exec .build/debug/trellis dev "$@"
