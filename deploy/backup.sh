#!/usr/bin/env bash
# Backups of Trellis's PostgreSQL with pgBackRest (Debian's `pgbackrest`): full backups plus continuous WAL
# archiving into one repository folder, and point-in-time restore into a new cluster. docs/operations.md
# explains when to run what; Tests/deploy/backup-restore.sh runs all of it and compares the data.
#
#   backup.sh configure --repo DIR --pg-data DIR --pg-port PORT [--pg-socket DIR]
#       writes DIR/pgbackrest.conf, turns WAL archiving on (ALTER SYSTEM; archive_mode needs a restart, which
#       the script does with pg_ctl when the cluster is not run by systemd — pass --no-restart to do it
#       yourself), creates the stanza and checks that a WAL segment reaches the repository.
#   backup.sh full    --repo DIR          a full backup (pgbackrest backup --type=full)
#   backup.sh diff    --repo DIR          a differential backup against the last full one
#   backup.sh info    --repo DIR          what the repository holds
#   backup.sh restore --repo DIR --to NEWDIR [--time 'YYYY-MM-DD HH:MM:SS.ffffff+00']
#       restores the latest backup into NEWDIR (which must not exist or be empty) and, with --time, replays
#       the archived WAL up to that moment and promotes there; start NEWDIR with pg_ctl afterwards.
#
# The stanza is `trellis` (BACKUP_STANZA to change it). Retention: two full backups (BACKUP_RETAIN_FULL).
# Run as root (the commands run as the cluster's owner, `postgres`) or as the owner itself.
set -euo pipefail

cmd=${1:?usage: backup.sh configure|full|diff|info|restore …}
shift
repo= pg_data= pg_port= pg_socket= to= target_time= restart=1
while [ $# -gt 0 ]; do
    case "$1" in
    --repo) repo=$(realpath -m "$2"); shift 2 ;;
    --pg-data) pg_data=$(realpath -m "$2"); shift 2 ;;
    --pg-port) pg_port=$2; shift 2 ;;
    --pg-socket) pg_socket=$2; shift 2 ;;
    --to) to=$(realpath -m "$2"); shift 2 ;;
    --time) target_time=$2; shift 2 ;;
    --no-restart) restart=0; shift ;;
    *) echo "backup.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$repo" ] || { echo "backup.sh: --repo DIR is required" >&2; exit 2; }
stanza=${BACKUP_STANZA:-trellis}
config=$repo/pgbackrest.conf
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pgbackrest_() { as_owner pgbackrest --config="$config" --stanza="$stanza" "$@"; }

if ! command -v pgbackrest >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbackrest >/dev/null; }
    else
        echo "pgbackrest not found: sudo apt-get install pgbackrest" >&2
        exit 1
    fi
fi

case "$cmd" in
configure)
    [ -n "$pg_data" ] && [ -n "$pg_port" ] || { echo "configure needs --pg-data and --pg-port" >&2; exit 2; }
    pg_socket=${pg_socket:-$pg_data}
    mkdir -p "$repo/repo" "$repo/log" "$repo/lock" "$repo/spool"
    [ "$(id -u)" = 0 ] && chown -R postgres "$repo"
    chmod 700 "$repo"
    # One file says everything: where the cluster is, where backups go, how many are kept, how they are packed.
    as_owner tee "$config" >/dev/null <<CONF
[global]
repo1-path=$repo/repo
repo1-retention-full=${BACKUP_RETAIN_FULL:-2}
log-path=$repo/log
lock-path=$repo/lock
spool-path=$repo/spool
log-level-console=warn
log-level-file=info
compress-type=zst
start-fast=y
archive-async=n

[$stanza]
pg1-path=$pg_data
pg1-port=$pg_port
pg1-socket-path=$pg_socket
pg1-user=postgres
CONF
    psql_() { as_owner psql -X -q -v ON_ERROR_STOP=1 -h "$pg_socket" -p "$pg_port" -U postgres -d postgres "$@"; }
    psql_ -c "ALTER SYSTEM SET wal_level = 'replica'" \
        -c "ALTER SYSTEM SET archive_mode = 'on'" \
        -c "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$config --stanza=$stanza archive-push %p'" \
        -c "ALTER SYSTEM SET archive_timeout = '60s'"
    if [ "$(psql_ -Atc "SHOW archive_mode")" != on ]; then
        if [ "$restart" = 1 ]; then
            as_owner "$pgbin/pg_ctl" -D "$pg_data" -w -t 60 restart -m fast >/dev/null
        else
            echo "archive_mode takes effect after a restart of the cluster: restart it, then run configure again" >&2
            exit 3
        fi
    fi
    psql_ -c "SELECT pg_reload_conf()" >/dev/null
    pgbackrest_ stanza-create
    pgbackrest_ check   # forces a WAL switch and waits until the segment is in the repository
    echo "backup: stanza $stanza configured in $config"
    ;;
full | diff)
    pgbackrest_ backup --type="$cmd"
    pgbackrest_ info --output=json | python3 -c 'import json, sys
b = json.load(sys.stdin)[0]["backup"][-1]; i = b["info"]; t = b["timestamp"]
print("backup label=%s type=%s bytes=%d repo_bytes=%d seconds=%d" % (b["label"], b["type"], i["size"], i["repository"]["delta"], t["stop"] - t["start"]))'
    ;;
info)
    pgbackrest_ info
    ;;
restore)
    [ -n "$to" ] || { echo "restore needs --to NEWDIR" >&2; exit 2; }
    if [ -d "$to" ] && [ -n "$(ls -A "$to")" ]; then echo "restore: $to is not empty" >&2; exit 2; fi
    mkdir -p "$to"
    [ "$(id -u)" = 0 ] && chown postgres "$to"
    chmod 700 "$to"
    target=()
    [ -n "$target_time" ] && target=(--type=time "--target=$target_time" --target-action=promote)
    # --pg1-path points the restore at the new folder; the source cluster is not touched.
    pgbackrest_ restore --pg1-path="$to" "${target[@]}"
    # The restored cluster must not archive into the source's stanza as if it were the source.
    echo "archive_mode = 'off'" | as_owner tee -a "$to/postgresql.auto.conf" >/dev/null
    echo "backup: restored into $to${target_time:+ up to $target_time}"
    ;;
*)
    echo "backup.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
