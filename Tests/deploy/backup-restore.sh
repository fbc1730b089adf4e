#!/usr/bin/env bash
# A full pgBackRest backup and a point-in-time restore, end to end, with deploy/backup.sh as an operator runs it:
#   a durable cluster of its own → configure archiving → migrate and seed the demo agency → full backup →
#   a second agency (only in the archived WAL, after the backup) → the moment T, fingerprinted →
#   a mistake after T (every client renamed, a third agency) → restore into a new cluster up to T →
#   the restored data equals the fingerprint at T table by table, and differs from the source's final state.
# Prints `restore backup_s=… restore_s=… tables=… rows=… equal_at_target=1 differs_from_final=1`.
# Usage: Tests/deploy/backup-restore.sh [BIN_DIR]   (default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
trellis=$(cd "${1:-.build/debug}" && pwd)/trellis
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

scratch=$(mktemp -d /tmp/trellis-backup.XXXXXX)
chmod 755 "$scratch"
source_port=$(free_port)
restored_port=$(free_port)
cleanup() {
    deploy/local-postgres.sh stop "$scratch/source" || true
    [ -f "$scratch/restored/PG_VERSION" ] && as_owner "$pgbin/pg_ctl" -D "$scratch/restored" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
[ "${KEEP_SCRATCH:-0}" = 1 ] || trap cleanup EXIT

deploy/local-postgres.sh start "$scratch/source" "$source_port" durable
psql_() { local port=$1; shift; psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d trellis "$@"; }
psql -X -q -h 127.0.0.1 -p "$source_port" -U postgres -d postgres -c "CREATE DATABASE trellis"
deploy/backup.sh configure --repo "$scratch/backups" --pg-data "$scratch/source" --pg-port "$source_port" >/dev/null

export DATABASE_URL="postgres://postgres@127.0.0.1:$source_port/trellis?sslmode=disable"
"$trellis" migrate >/dev/null
"$trellis" seed-demo >/dev/null

started=$(date +%s.%N)
deploy/backup.sh full --repo "$scratch/backups" >/dev/null
backup_s=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$started")

# pgBackRest picks the backup to restore by its stop time, kept in whole seconds: a target in the same second
# as the backup's end would find none, so T comes later than that.
sleep 2
# After the backup: only the archived WAL knows about this agency.
"$trellis" agency create --name "After The Backup" --owner-email owner@after.example >/dev/null

# Every table of the schema: its row count and an md5 of its rows in a fixed order.
fingerprint() {
    psql_ "$1" -At <<'SQL'
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %I.%I t',
              tablename, schemaname, tablename)
FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename
\gexec
SQL
}
at_target=$(fingerprint "$source_port")
target_time=$(psql_ "$source_port" -Atc "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1.5

# The mistake after T, then make sure its WAL reaches the repository too.
psql_ "$source_port" -c "UPDATE clients SET name = 'renamed by mistake'"
"$trellis" agency create --name "After The Mistake" --owner-email owner@mistake.example >/dev/null
psql_ "$source_port" -c "SELECT pg_switch_wal()" >/dev/null
psql_ "$source_port" -c "CHECKPOINT"
final=$(fingerprint "$source_port")
# Wait until the segment holding the mistake is archived (archive_command runs asynchronously to the switch).
for _ in $(seq 1 100); do
    [ "$(psql_ "$source_port" -Atc "SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn()) OR failed_count > 0 FROM pg_stat_archiver" 2>/dev/null)" = t ] && break
    psql_ "$source_port" -c "SELECT pg_switch_wal()" >/dev/null
    sleep 0.2
done

started=$(date +%s.%N)
deploy/backup.sh restore --repo "$scratch/backups" --to "$scratch/restored" --time "$target_time" >/dev/null
as_owner "$pgbin/pg_ctl" -D "$scratch/restored" -l "$scratch/restored/server.log" -w -t 120 \
    -o "-p $restored_port -k $scratch/restored -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null \
    || { tail -n 40 "$scratch/restored/server.log" >&2; exit 1; }
# Recovery ends with a promotion at the target; wait until the restored cluster takes writes.
for _ in $(seq 1 600); do
    [ "$(psql_ "$restored_port" -Atc "SELECT NOT pg_is_in_recovery()" 2>/dev/null)" = t ] && break
    sleep 0.1
done
restore_s=$(python3 -c "import time,sys; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$started")
restored=$(fingerprint "$restored_port")

tables=$(wc -l <<<"$restored")
rows=$(awk -F'|' '{ n += $2 } END { print n }' <<<"$restored")
equal=0; [ "$restored" = "$at_target" ] && equal=1
differs=0; [ "$restored" != "$final" ] && differs=1
agencies=$(psql_ "$restored_port" -Atc "SELECT string_agg(name, ', ' ORDER BY name) FROM agencies")
echo "restore backup_s=$backup_s restore_s=$restore_s tables=$tables rows=$rows equal_at_target=$equal differs_from_final=$differs agencies=\"$agencies\""
if [ "$equal" != 1 ]; then
    diff <(echo "$at_target") <(echo "$restored") >&2 || true
    echo "restore: the restored data is not the source's at $target_time" >&2
    exit 1
fi
[ "$differs" = 1 ] || { echo "restore: the mistake after the target was not in the source — the test proves nothing" >&2; exit 1; }
grep -q "After The Backup" <<<"$agencies" || { echo "restore: the WAL after the backup was not replayed" >&2; exit 1; }
