#!/usr/bin/env bash
# The systemd units in deploy/systemd pass `systemd-analyze verify`: each is copied with its binaries pointed at this
# build and its environment file at the example (what verify checks must exist), everything else as shipped.
# Usage: Tests/deploy/verify-units.sh [BIN_DIR]   (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(cd "${1:-.build/debug}" && pwd)
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (Debian package systemd)" >&2; exit 1; }
scratch=$(mktemp -d /tmp/trellis-units.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for unit in deploy/systemd/*.service; do
    sed -e "s|/opt/trellis/bin/|$bin/|g" -e "s|/etc/trellis/trellis.env|$PWD/deploy/systemd/trellis.env.example|g" "$unit" >"$scratch/$(basename "$unit")"
done
# Verify prints problems and exits non-zero on any; "not found" lines for units outside this set would be noise only.
output=$(cd "$scratch" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no ./*.service 2>&1) || { echo "$output" >&2; exit 1; }
if [ -n "$output" ]; then echo "$output" >&2; exit 1; fi
echo "systemd units: $(ls "$scratch" | wc -l) verified ($(ls "$scratch" | tr '\n' ' '))"
