#!/usr/bin/env bash
# Authenticated read throughput: GET /api/v1/triggers/{id} (JWT + X-Organization-ID; the trigger
# with its conditions and actions) with wrk vs pgbench running a single-row SELECT of the same
# trigger row, with the same number of clients, same machine, same run. Target (issue 3): >= 50 %.
#
# The gateway does per request: JWT verification, the membership role (a prepared statement,
# reused for api.member_role_cache_ms), the trigger with its conditions and actions (the response
# body from the gateway's trigger cache, re-read by one prepared statement at most every
# api.trigger_cache_ms), and the rate limiter (a Lua script in Redis; the user limit is raised so
# the load is not refused — the counting still runs). pgbench does one indexed SELECT.
#
# Usage: bench/api_read.sh [--smoke]    (--smoke: 1 short round, for CI; not a measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=3; DURATION=10; CONNS=32; THREADS=2
if [ "${1:-}" = "--smoke" ]; then ROUNDS=1; DURATION=2; fi

bench_prepare

WORK=$(mktemp -d /tmp/auri-bench-XXXXXX); chmod 755 "$WORK"
API_PORT=$(free_port 1); PG_PORT=$(free_port 2); REDIS_PORT=$(free_port 3)
PROC_PORT=$(free_port 4); WORKERS_PORT=$(free_port 5); DR_PORT=$(free_port 6)
AURI=(./build/auri --set general.home="$WORK/home" --set api.port="$API_PORT"
      --set postgres.port="$PG_PORT" --set redis.port="$REDIS_PORT" --set log.level=warn
      --set processor.metrics_port="$PROC_PORT" --set delivery.metrics_port="$WORKERS_PORT" --set dr_agent.metrics_port="$DR_PORT"
      --set rate_limit.user_per_hour=100000000)
cleanup() { "${AURI[@]}" down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
"${AURI[@]}" up >/dev/null
API="http://127.0.0.1:$API_PORT/api/v1"

# A user, their personal organization and one trigger with a condition and an action.
REG=$(curl -sf -X POST "$API/auth/register" -H 'Content-Type: application/json' \
  -d '{"username":"bench","email":"bench@example.com","password":"Bench-Password-123!"}')
TOKEN=$(jq -r .token <<<"$REG")
ORG=$(curl -sf "$API/auth/me" -H "Authorization: Bearer $TOKEN" | jq -r '.organizations[0].id')
TRIGGER=$(curl -sf -X POST "$API/triggers" -H "Authorization: Bearer $TOKEN" \
  -H "X-Organization-ID: $ORG" -H 'Content-Type: application/json' \
  -d '{"name":"bench","registry":"reputation",
       "conditions":[{"condition_type":"score_threshold","operator":"<","value":"60"}],
       "actions":[{"action_type":"webhook","config":{"url":"https://example.com/hook"}}]}' |
  jq -r .data.id)
curl -sf "$API/triggers/$TRIGGER" -H "Authorization: Bearer $TOKEN" -H "X-Organization-ID: $ORG" >/dev/null

cat > "$WORK/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["X-Organization-ID"] = "$ORG"
LUA
echo "SELECT id, name, registry, enabled FROM triggers WHERE id = '$TRIGGER';" > "$WORK/select.sql"

api_rps() {
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$WORK/auth.lua" "$API/triggers/$TRIGGER" |
    awk '/Requests\/sec/ {print $2} /Non-2xx/ {print "non-2xx: " $0 > "/dev/stderr"}'
}
pg_tps() {
  pgbench -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -c "$CONNS" -j "$THREADS" -T "$DURATION" \
    -f "$WORK/select.sql" auri 2>/dev/null | awk '/^tps/ {print $3; exit}'
}
echo "clients: $CONNS, ${DURATION}s per run, rounds: $ROUNDS (alternating)"
: > "$WORK/api.txt"; : > "$WORK/pg.txt"
for i in $(seq "$ROUNDS"); do
  p=$(pg_tps); echo "$p" >> "$WORK/pg.txt"
  a=$(api_rps); echo "$a" >> "$WORK/api.txt"
  echo "round $i: pgbench $p tps, GET /triggers/{id} $a req/s"
done
P=$(median < "$WORK/pg.txt"); A=$(median < "$WORK/api.txt")
RATIO=$(awk -v a="$A" -v p="$P" 'BEGIN { printf "%.1f", 100 * a / p }')
echo "median: pgbench $P tps, api $A req/s, ratio $RATIO % (target >= 50 %)"
