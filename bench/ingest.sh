#!/usr/bin/env bash
# Ingestion and event-processor throughput, each against a reference measured in the same run:
#   1. batched HTTP ingestion (POST /api/v1/events, 1000-event batches, 4 concurrent keep-alive
#      clients) vs `COPY` of the same number of rows (same shape, other ids) into the same table
#      by 4 concurrent psql sessions → ratio of events/s;
#   2. single-event ingestion, 32 connections (wrk + Lua, one new event per request) vs
#      `pgbench -c 32 -M prepared` doing the same one-row INSERT → ratio;
#   3. event-processor throughput: events evaluated per second (100 triggers, batch 100) while it
#      drains the queue filled by 1. and 2.
# The stack is started on free ports under a temporary home; the event-processor is paused
# (SIGSTOP) during 1. and 2. so it does not compete for the 2 cores, then resumed for 3.
#
# Usage: bench/ingest.sh [--smoke]   (--smoke: tiny sizes, 1 round, for CI; not a measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=3; EVENTS=50000; DURATION=10s
if [ "${1:-}" = "--smoke" ]; then ROUNDS=1; EVENTS=2000; DURATION=2s; fi

bench_prepare

WORK=$(mktemp -d /tmp/auri-bench-XXXXXX); chmod 755 "$WORK"
API_PORT=$(free_port 1); PG_PORT=$(free_port 2); REDIS_PORT=$(free_port 3); PROC_PORT=$(free_port 4)
AURI=(./build/auri --set general.home="$WORK/home" --set api.port="$API_PORT" --set api.threads=2
      --set postgres.port="$PG_PORT" --set redis.port="$REDIS_PORT" --set log.level=warn
      --set processor.metrics_port="$PROC_PORT" --set delivery.max_pending=100000000
      --set postgres.statement_timeout_ms=60000)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d auri)
PROC_PID=""

cleanup() {
  [ -n "$PROC_PID" ] && kill -CONT "$PROC_PID" 2>/dev/null || true
  "${AURI[@]}" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"${AURI[@]}" up >/dev/null
TOKEN=$("${AURI[@]}" secrets show ingest-token --reveal --json | jq -r .value)
PROC_PID=$(jq -r '.components[] | select(.name=="event-processor") | .pid' "$WORK/home/run/stack.json")

# 100 triggers on reputation events: 50 pinned to one agent each (score < 60), 50 on every event
# (score < 1, so few jobs). created_at in the past so the benchmark's events are not skipped.
cat > "$WORK/triggers.sql" <<'SQL'
INSERT INTO triggers (organization_id, name, registry, created_at)
SELECT :'org', 'bench-' || i, 'reputation', '2020-01-01' FROM generate_series(0, 99) i;
INSERT INTO trigger_conditions (trigger_id, condition_type, operator, value)
SELECT id, 'agent_id_equals', NULL, substr(name, 7) FROM triggers WHERE substr(name, 7)::int < 50;
INSERT INTO trigger_conditions (trigger_id, condition_type, operator, value)
SELECT id, 'score_threshold', '<', CASE WHEN substr(name, 7)::int < 50 THEN '60' ELSE '1' END
FROM triggers;
INSERT INTO trigger_actions (trigger_id, action_type, config)
SELECT id, 'webhook', '{"url": "https://example.com/hook"}' FROM triggers;
SQL
bench_triggers "${PSQL[@]}" -- "$WORK/triggers.sql"
# Let the processor load them, then pause it.
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$PROC_PORT/metrics" | grep -q '^auri_processor_triggers 100' && break
  sleep 0.1
done
kill -STOP "$PROC_PID"

COLS='id, chain_id, block_number, transaction_hash, log_index, registry, event_type, agent_id, "timestamp", block_time, client_address, feedback_index, score, tag1'

echo "1. batched ingestion: $EVENTS events per round, 1000 per request, 4 clients; COPY of $EVENTS rows, 4 sessions"
: > "$WORK/http.txt"; : > "$WORK/copy.txt"; : > "$WORK/batch_ratio.txt"
for r in $(seq "$ROUNDS"); do
  /usr/bin/python3 bench/ingest_driver.py gen "$((2 * r))" "$EVENTS" 1000 "$WORK/http-$r"
  /usr/bin/python3 bench/ingest_driver.py gen "$((2 * r + 1))" "$EVENTS" 1000 "$WORK/copy-$r"
  read -r n secs < <(/usr/bin/python3 bench/ingest_driver.py post \
    "http://127.0.0.1:$API_PORT/api/v1/events" "$TOKEN" 4 "$WORK/http-$r")
  [ "$n" -eq "$EVENTS" ] || { echo "accepted $n of $EVENTS" >&2; exit 1; }
  h=$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  # The reference gets the same concurrency: 4 psql sessions, each COPYing a quarter.
  split -n l/4 -d "$WORK/copy-$r/rows.csv" "$WORK/copy-$r/part-"
  t0=$(date +%s.%N)
  for part in "$WORK/copy-$r"/part-*; do
    "${PSQL[@]}" -c "\\copy events ($COLS) FROM '$part' WITH (FORMAT csv)" &
  done
  wait
  t1=$(date +%s.%N)
  c=$(awk -v n="$EVENTS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  echo "$h" >> "$WORK/http.txt"; echo "$c" >> "$WORK/copy.txt"
  awk -v h="$h" -v c="$c" 'BEGIN { printf "%.1f\n", 100 * h / c }' >> "$WORK/batch_ratio.txt"
  echo "round $r: HTTP batched $h events/s, COPY $c events/s"
done
echo "median: HTTP batched $(median < "$WORK/http.txt") events/s, COPY $(median < "$WORK/copy.txt") events/s, ratio $(median < "$WORK/batch_ratio.txt") %"

echo "2. single-event ingestion, 32 connections, $DURATION per side"
: > "$WORK/single_ratio.txt"; : > "$WORK/wrk.txt"; : > "$WORK/pgb.txt"
NOW=$(( $(date +%s) - 60 ))
for r in $(seq "$ROUNDS"); do
  /usr/bin/python3 bench/ingest_driver.py lua-single "$WORK/single.lua" "$TOKEN" "$(printf '%x' $((8 + r)))"
  wrk -t2 -c32 -d"$DURATION" -s "$WORK/single.lua" "http://127.0.0.1:$API_PORT/api/v1/events" \
    > "$WORK/wrk.out"
  grep -q '^non-202 responses: 0$' "$WORK/wrk.out" || { cat "$WORK/wrk.out" >&2; exit 1; }
  w=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  cat > "$WORK/insert.sql" <<SQL
\\set n random(1, 1000000000000)
INSERT INTO events ($COLS) VALUES ('reputation-11155111-0x$(printf '%x' $((12 + r)))' || lpad(to_hex((:n)::bigint), 63, '0') || '-0', 11155111, 9000000, '0x$(printf '%x' $((12 + r)))' || lpad(to_hex((:n)::bigint), 63, '0'), 0, 'reputation', 'NewFeedback', (:n)::bigint % 500, $NOW, to_timestamp($NOW), '0x0000000000000000000000000000000000c0ffee', (:n)::bigint, (:n)::bigint % 101, 'quality');
SQL
  p=$(pgbench -n -M prepared -c 32 -j 2 -T "${DURATION%s}" -f "$WORK/insert.sql" \
      -h 127.0.0.1 -p "$PG_PORT" -U postgres auri 2>"$WORK/pgbench.err" \
      | awk '/^tps/ {print $3; exit}')
  [ -n "$p" ] || { echo "pgbench failed:" >&2; tail -5 "$WORK/pgbench.err" >&2; exit 1; }
  echo "$w" >> "$WORK/wrk.txt"; echo "$p" >> "$WORK/pgb.txt"
  awk -v w="$w" -v p="$p" 'BEGIN { printf "%.1f\n", 100 * w / p }' >> "$WORK/single_ratio.txt"
  echo "round $r: HTTP single $w events/s (wrk), pgbench $p tps"
done
echo "median: HTTP single $(median < "$WORK/wrk.txt") events/s, pgbench $(median < "$WORK/pgb.txt") tps, ratio $(median < "$WORK/single_ratio.txt") %"

echo "3. event-processor throughput (100 triggers, batch 100)"
QUEUED=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM event_queue")
t0=$(date +%s.%N)
kill -CONT "$PROC_PID"
while [ "$("${PSQL[@]}" -tA -c "SELECT count(*) FROM event_queue")" -gt 0 ]; do sleep 0.2; done
t1=$(date +%s.%N)
JOBS=$("${PSQL[@]}" -tA -c "SELECT count(*) FROM action_jobs")
awk -v n="$QUEUED" -v a="$t0" -v b="$t1" -v j="$JOBS" \
  'BEGIN { printf "evaluated %d events in %.1f s: %.0f events/s (%d action jobs written)\n", n, b - a, n / (b - a), j }'
curl -s "http://127.0.0.1:$PROC_PORT/metrics" | grep -E '^auri_processor_stage_duration_seconds_(sum|count)'
