#!/usr/bin/env bash
# Backup and restore speed of Auri's pgBackRest path against the plain references, in one run on
# one machine: `auri backup create` vs pg_basebackup, and `auri restore` (files only, and until
# the instance accepts writes) vs `cp -a` of the data directory.
#
#   bench/backup_restore.sh            ~1 GiB (pgbench -i -s 70), 3 alternating rounds, medians
#   bench/backup_restore.sh --smoke    ~80 MiB (-s 5), 1 round, for CI (not a measurement)
#
# Then the RPO exposure under write load: `auri dr status` sampled every second during pgbench -N.
#
# Each timed operation (Auri's and the reference's) starts with a cold page cache (sync; echo 3 >
# /proc/sys/vm/drop_caches) when the script may write that file (root, not a read-only /proc/sys);
# else it says so and runs warm. Without it the cp -a reference swung 3.4 s → 10.7 s between runs.
# Other people benchmark on the same cores: run it under the shared lock,
#   flock /work/notes/bench.lock bench/backup_restore.sh
# and read the load averages it prints at the start and the end.
#
# Needs a built ./build/auri (or AURI=path), PostgreSQL 15 and pgBackRest; run as root (servers run
# as postgres). Uses one repository. Everything lives in a temporary home that is removed at the end.
set -euo pipefail
SCALE=70; ROUNDS=3; LOAD_SECONDS=30
[[ "${1:-}" == "--smoke" ]] && { SCALE=5; ROUNDS=1; LOAD_SECONDS=4; }
AURI=${AURI:-$(pwd)/build/auri}
BIN=/usr/lib/postgresql/15/bin
H=$(mktemp -d /tmp/auri-bench-XXXXXX)
chmod 755 "$H"
# A free loopback port (the kernel's choice; released at once, taken by the server soon after).
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PG=$(free_port); API=$(free_port); REDIS=$(free_port); PROC=$(free_port); WORK=$(free_port)
DRA=$(free_port)
A=("$AURI" --set "general.home=$H" --set "api.port=$API" --set "postgres.port=$PG"
   --set "redis.port=$REDIS" --set "processor.metrics_port=$PROC" --set "delivery.metrics_port=$WORK"
   --set "dr_agent.metrics_port=$DRA" --set "backup.repo2_path=none")
cleanup() {
  "${A[@]}" instance remove bench >/dev/null 2>&1 || true
  "${A[@]}" down >/dev/null 2>&1 || true
  rm -rf "$H"
}
trap cleanup EXIT
now() { date +%s.%N; }
# cold: empties the page cache before a timed operation (a no-op with a note when not allowed).
COLD=1
if [ "$ROUNDS" = 1 ]; then COLD=0  # --smoke: not a measurement, leave the machine's cache alone
else sync; (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null || COLD=0; fi
cold() { [ "$COLD" = 1 ] && { sync; echo 3 >/proc/sys/vm/drop_caches; } || true; }
echo "load average at start: $(cat /proc/loadavg)"
[ "$COLD" = 1 ] && echo "page cache dropped before each timed operation" ||
  echo "note: page cache not dropped (--smoke, or /proc/sys/vm/drop_caches not writable): warm timings"
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
jget() { python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print("%.2f" % eval(sys.argv[2]))' "$1" "$2"; }

"${A[@]}" up >/dev/null
"$BIN/pgbench" -q -i -s "$SCALE" -h 127.0.0.1 -p "$PG" -U postgres auri >/dev/null 2>&1
psql -h 127.0.0.1 -p "$PG" -U postgres -d auri -qc CHECKPOINT
BYTES=$(psql -h 127.0.0.1 -p "$PG" -U postgres -d auri -tAc "select sum(pg_database_size(oid)) from pg_database")
MB=$(python3 -c "print(f'{$BYTES/1e6:.0f}')")
echo "database: $MB MB (pgbench scale $SCALE), $(nproc) cores, process-max from cores, zst; $ROUNDS rounds, alternating"

# 1. Backup vs pg_basebackup, alternating, same data.
mkdir -p "$H/basebackup" && chown postgres "$H/basebackup"
B=(); BB=()
for r in $(seq "$ROUNDS"); do
  cold
  b=$("${A[@]}" backup create --repo 1 --json 2>/dev/null | python3 -c 'import json,sys;print("%.2f" % json.load(sys.stdin)["backups"][0]["seconds"])')
  rm -rf "$H/basebackup/data"
  cold
  t0=$(now)
  su postgres -c "$BIN/pg_basebackup -h 127.0.0.1 -p $PG -U postgres -D $H/basebackup/data -X stream -c fast"
  bb=$(secs "$t0" "$(now)")
  echo "round $r: auri backup create $b s, pg_basebackup $bb s"
  B+=("$b"); BB+=("$bb")
done

# 2. Restore (to a new instance, with its integrity checks) vs cp -a of the data directory.
RF=(); RW=(); RA=(); CP=()
for r in $(seq "$ROUNDS"); do
  "${A[@]}" instance remove bench >/dev/null 2>&1 || true
  cold
  j=$("${A[@]}" restore --as bench --latest --json 2>/dev/null)
  rm -rf "$H/copy"; sync
  cold
  t0=$(now)
  cp -a "$H/basebackup/data" "$H/copy"
  sync
  c=$(secs "$t0" "$(now)")
  RF+=("$(jget "$j" 'd["restore_seconds"]')")
  RW+=("$(jget "$j" 'd["restore_seconds"]+d["recovery_seconds"]')")
  RA+=("$(jget "$j" 'd["total_seconds"]')")
  CP+=("$c")
  echo "round $r: auri restore files ${RF[-1]} s, writable ${RW[-1]} s, with checks ${RA[-1]} s; cp -a $c s"
done

rate() { python3 -c "print(f'{$BYTES/1e6/$1:.0f}')"; }
med() { printf '%s\n' "$@" | median; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
BACKUP=$(med "${B[@]}"); BASEBACKUP=$(med "${BB[@]}")
RESTORE_FILES=$(med "${RF[@]}"); RESTORE_TOTAL=$(med "${RW[@]}"); RESTORE_ALL=$(med "${RA[@]}")
CPS=$(med "${CP[@]}")
echo "medians:"
printf '%-52s %8s %8s\n' "step" "seconds" "MB/s"
printf '%-52s %8s %8s\n' "auri backup create (full, 1 repo)" "$BACKUP" "$(rate "$BACKUP")"
printf '%-52s %8s %8s\n' "pg_basebackup -X stream -c fast" "$BASEBACKUP" "$(rate "$BASEBACKUP")"
printf '%-52s %8s %8s\n' "auri restore: pgbackrest restore (files)" "$RESTORE_FILES" "$(rate "$RESTORE_FILES")"
printf '%-52s %8s %8s\n' "auri restore: files + start + recovery (writable)" "$RESTORE_TOTAL" "$(rate "$RESTORE_TOTAL")"
printf '%-52s %8s %8s\n' "auri restore: whole command incl. integrity checks" "$RESTORE_ALL" "-"
printf '%-52s %8s %8s\n' "cp -a of the data directory (+ sync)" "$CPS" "$(rate "$CPS")"
echo "ratio backup / pg_basebackup: $(ratio "$BACKUP" "$BASEBACKUP") (target <= 1.5)"
echo "ratio restore until writable / cp -a: $(ratio "$RESTORE_TOTAL" "$CPS") (target <= 2)"

# 3. RPO exposure under write load: `auri dr status` (WAL not yet in repo1, in seconds and bytes)
# sampled every second while pgbench writes.
"$BIN/pgbench" -n -N -c 4 -j 2 -T "$LOAD_SECONDS" -h 127.0.0.1 -p "$PG" -U postgres auri \
  >"$H/pgbench-load.txt" 2>&1 &
LOAD=$!
: >"$H/lag.txt"
while kill -0 "$LOAD" 2>/dev/null; do
  "${A[@]}" dr status --json 2>/dev/null | python3 -c '
import json,sys
d=json.load(sys.stdin)
r=[x for x in d["repositories"] if x["repo"]==1][0]
if r["wal_lag_seconds"] >= 0 and r["wal_lag_bytes"] >= 0:
    print(r["wal_lag_seconds"], r["wal_lag_bytes"], int(r.get("wal_lag_seconds_is_bound", False)))' >>"$H/lag.txt" || true
  sleep 1
done
wait "$LOAD" || true
TPS=$(grep -o 'tps = [0-9.]*' "$H/pgbench-load.txt" | head -1 | cut -d' ' -f3)
N=$(wc -l <"$H/lag.txt")
if [ "$N" -gt 0 ]; then
  echo "RPO exposure under load (pgbench -N -c 4, ${TPS:-?} tps, $N samples of auri dr status, repo1):" \
    "median $(cut -d' ' -f1 "$H/lag.txt" | median) s / $(cut -d' ' -f2 "$H/lag.txt" | median) bytes," \
    "max $(cut -d' ' -f1 "$H/lag.txt" | sort -n | tail -1) s / $(cut -d' ' -f2 "$H/lag.txt" | sort -n | tail -1) bytes" \
    "(objective: <= 5 s); $(awk '$3 == 1' "$H/lag.txt" | wc -l) samples an upper bound"
else
  echo "RPO exposure under load: no sample (auri dr status gave no lag for repo1)"; exit 1
fi
echo "load average at end: $(cat /proc/loadavg)"
