# Shared by the bench/*.sh scripts (sourced, not run). Expects `set -euo pipefail` and the
# repository root as the working directory.

# The packages the benchmarks need, and the auri binary.
bench_prepare() {
  scripts/install-deps base
  scripts/install-deps bench
  [ -x build/auri ] || { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2; }
}

# free_port N: a free port from the N-th block of 2,000, so two calls never return the same port
# (a port is only taken once its server starts, after every port has been chosen).
free_port() {
  local p
  for p in $(shuf -i $((20000 + ${1:-0} * 2000))-$((21999 + ${1:-0} * 2000)) -n 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "no free port found" >&2; exit 3
}

# median < numbers (one a line)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# rss_mib PID: resident set size of a process in MiB (one decimal), from /proc.
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# component_pid HOME NAME: pid of a component of `auri up` (run/stack.json).
component_pid() { jq -r --arg n "$2" '.components[] | select(.name==$n) | .pid' "$1/run/stack.json"; }

# cpu_ticks PID...: CPU time used by the processes and their waited-for children (utime + stime
# + cutime + cstime of /proc/PID/stat), in clock ticks (getconf CLK_TCK, 100 per second).
cpu_ticks() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$(( total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13 + $14 + $15}') ))
  done
  echo "$total"
}

# process_tree PID: PID and all its descendants.
process_tree() {
  local p
  echo "$1"
  for p in $(pgrep -P "$1"); do process_tree "$p"; done
}

# bench_triggers PSQL... -- SQL_FILE: creates the owner of the benchmark's triggers (user and
# organization "bench"), then runs SQL_FILE in the same transaction, where the psql variable
# :'org' names the organization (psql -v settings before "--" are passed on).
bench_triggers() {
  local args=() file
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  file=$2
  { cat <<'SQL'
BEGIN;
WITH u AS (INSERT INTO users (username, email, password_hash) VALUES ('bench', 'b@example.com', 'x') RETURNING id),
     o AS (INSERT INTO organizations (name, slug) VALUES ('bench', 'bench') RETURNING id)
INSERT INTO organization_members SELECT o.id, u.id, 'owner' FROM o, u RETURNING organization_id AS org \gset
SQL
    cat "$file"
    echo "COMMIT;"
  } | "${args[@]}"
}
