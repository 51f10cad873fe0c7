#!/usr/bin/env bash
# Backup and restore speed of Auri's pgBackRest path against the plain references, in one run on
# one machine: `auri backup create` vs pg_basebackup, and `auri restore` (files only, and until
# the instance accepts writes) vs `cp -a` of the data directory.
#
#   bench/backup_restore.sh            ~1 GiB (pgbench -i -s 70)
#   bench/backup_restore.sh --smoke    ~80 MiB (-s 5), for CI
#
# Needs a built ./build/auri (or AURI=path), PostgreSQL 15 and pgBackRest; run as root (servers run
# as postgres). Uses one repository. Everything lives in a temporary home that is removed at the end.
set -euo pipefail
SCALE=70
[[ "${1:-}" == "--smoke" ]] && SCALE=5
AURI=${AURI:-$(pwd)/build/auri}
BIN=/usr/lib/postgresql/15/bin
H=$(mktemp -d /tmp/auri-bench-XXXXXX)
chmod 755 "$H"
# free_port N: a free port from the N-th block of 2,000, so two calls never return the same port
# (a port is only taken once its server starts, after every port has been chosen).
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PG=$(free_port 1); API=$(free_port 2); REDIS=$(free_port 3)
A=("$AURI" --set "general.home=$H" --set "api.port=$API" --set "postgres.port=$PG"
   --set "redis.port=$REDIS" --set "backup.repo2_path=none")
cleanup() {
  "${A[@]}" instance remove bench >/dev/null 2>&1 || true
  "${A[@]}" down >/dev/null 2>&1 || true
  rm -rf "$H"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

"${A[@]}" up >/dev/null
"$BIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG" -U postgres auri >/dev/null 2>&1
psql -h 127.0.0.1 -p "$PG" -U postgres -d auri -qc CHECKPOINT
BYTES=$(psql -h 127.0.0.1 -p "$PG" -U postgres -d auri -tAc "select sum(pg_database_size(oid)) from pg_database")
MB=$(python3 -c "print(f'{$BYTES/1e6:.0f}')")

BACKUP=$("${A[@]}" backup create --repo 1 --json 2>/dev/null | python3 -c 'import json,sys;print("%.2f" % json.load(sys.stdin)["backups"][0]["seconds"])')

mkdir -p "$H/basebackup" && chown postgres "$H/basebackup"
t0=$(now)
su postgres -c "$BIN/pg_basebackup -h 127.0.0.1 -p $PG -U postgres -D $H/basebackup/data -X stream -c fast" 
BASEBACKUP=$(secs "$t0" "$(now)")

RESTORE_JSON=$("${A[@]}" restore --as bench --latest --json 2>/dev/null)
RESTORE_FILES=$(python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print("%.2f" % d["restore_seconds"])' "$RESTORE_JSON")
RESTORE_TOTAL=$(python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print("%.2f" % (d["restore_seconds"]+d["recovery_seconds"]))' "$RESTORE_JSON")
RESTORE_ALL=$(python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print("%.2f" % d["total_seconds"])' "$RESTORE_JSON")

sync
t0=$(now)
cp -a "$H/basebackup/data" "$H/copy"
sync
CP=$(secs "$t0" "$(now)")

rate() { python3 -c "print(f'{$BYTES/1e6/$1:.0f}')"; }
echo "database: $MB MB (pgbench scale $SCALE), $(nproc) cores, process-max from cores, zst"
printf '%-52s %8s %8s\n' "step" "seconds" "MB/s"
printf '%-52s %8s %8s\n' "auri backup create (full, 1 repo)" "$BACKUP" "$(rate "$BACKUP")"
printf '%-52s %8s %8s\n' "pg_basebackup -X stream -c fast" "$BASEBACKUP" "$(rate "$BASEBACKUP")"
printf '%-52s %8s %8s\n' "auri restore: pgbackrest restore (files)" "$RESTORE_FILES" "$(rate "$RESTORE_FILES")"
printf '%-52s %8s %8s\n' "auri restore: files + start + recovery (writable)" "$RESTORE_TOTAL" "$(rate "$RESTORE_TOTAL")"
printf '%-52s %8s %8s\n' "auri restore: whole command incl. integrity checks" "$RESTORE_ALL" "-"
printf '%-52s %8s %8s\n' "cp -a of the data directory (+ sync)" "$CP" "$(rate "$CP")"
