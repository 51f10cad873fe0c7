#!/usr/bin/env bash
# End to end: event ingested → trigger matched → webhook delivered, on one machine (issue 5).
#   1. Latency: 500 events/s for 60 s (batches of 10 on 2 keep-alive connections, on a fixed
#      schedule) against 1,000 triggers, webhooks to an nginx sink on loopback. Per delivery:
#      received − ack, where ack = the moment the ingest client had read the 202 of the request
#      that carried the event (the events are committed before the 202 is written, so this is
#      commit → received plus at most the response's way back over loopback), and received =
#      nginx's $msec in the sink's access log (the same host clock). Also printed: received −
#      send (send = just before the request was written), an upper bound. p50 and p99 over every
#      delivery; target p50 ≤ 10 ms, p99 ≤ 50 ms.
#   2. Saturation: with the action-workers stopped (SIGSTOP), 50,000 pending webhook jobs are
#      inserted (the latency run's event snapshot and action config, one of the 1,000 triggers
#      each); the workers are resumed and the rate at which the sink receives them is measured
#      (jobs / (last receive − resume) and the median per-second count). 3 rounds, median;
#      target ≥ 5,000 actions/s.
#   3. RSS (VmRSS from /proc) of the api-gateway, the action-workers and the event-processor
#      before the load, after 1. and after 2.
# Triggers: 1,000 on reputation events, trigger i pinned to agent i mod 500 (two per agent) with
# score < 50; event n has agent n mod 500 and score 37n mod 101, so each event matches 0 or 2
# triggers, ≈ 1 webhook per event (≈ 500 actions/s). Each trigger has one webhook action with the
# default body (the event plus trigger id/name) to http://127.0.0.1:<sink>/hook.
# The sink is nginx (`return 200`, one worker, access log "$msec $http_idempotency_key
# $http_x_auri_event_id"): ≈ 60,000 req/s here (bench/http_health.sh), far above what is measured.
#
# Usage: bench/e2e.sh [--smoke]   (--smoke: 3 s at 100 events/s, one 1,000-job saturation round,
#                                   for CI; not a measurement)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
RATE=500; SECONDS_LOAD=60; BATCH=10; CLIENTS=2; ROUNDS=3; JOBS=50000
if [ "${1:-}" = "--smoke" ]; then RATE=100; SECONDS_LOAD=3; ROUNDS=1; JOBS=1000; fi
# For experiments only (the recorded numbers use the defaults above): E2E_RATE, E2E_SECONDS,
# E2E_ROUNDS, E2E_JOBS, E2E_SET (extra "--set key=value" words for `auri up`), E2E_SQL (run once
# after the triggers are created).
RATE=${E2E_RATE:-$RATE}; SECONDS_LOAD=${E2E_SECONDS:-$SECONDS_LOAD}
ROUNDS=${E2E_ROUNDS:-$ROUNDS}; JOBS=${E2E_JOBS:-$JOBS}

bench_prepare
WORK=$(mktemp -d /tmp/auri-bench-XXXXXX); chmod 755 "$WORK"
API_PORT=$(free_port 1); PG_PORT=$(free_port 2); REDIS_PORT=$(free_port 3); PROC_PORT=$(free_port 4)
WORKERS_PORT=$(free_port 5); SINK_PORT=$(free_port 6); DR_PORT=$(free_port 7)
AURI=(./build/auri --set general.home="$WORK/home" --set api.port="$API_PORT" --set api.threads=2
      --set postgres.port="$PG_PORT" --set redis.port="$REDIS_PORT" --set log.level=warn
      --set processor.metrics_port="$PROC_PORT" --set delivery.metrics_port="$WORKERS_PORT"
      --set dr_agent.metrics_port="$DR_PORT"
      --set delivery.max_pending=100000000 --set postgres.statement_timeout_ms=60000 ${E2E_SET:-})
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d auri)
WORKERS_PID=""

cleanup() {
  [ -n "$WORKERS_PID" ] && kill -CONT "$WORKERS_PID" 2>/dev/null || true
  "${AURI[@]}" down >/dev/null 2>&1 || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  log_format e2e '\$msec \$http_idempotency_key \$http_x_auri_event_id \$connection';
  access_log $WORK/sink.log e2e;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$SINK_PORT backlog=4096;
    location / { return 200; }
  }
}
CONF
nginx -c "$WORK/nginx.conf"
"${AURI[@]}" up >/dev/null
TOKEN=$("${AURI[@]}" secrets show ingest-token --reveal --json | jq -r .value)
HOME_DIR="$WORK/home"
WORKERS_PID=$(component_pid "$HOME_DIR" action-workers)

cat > "$WORK/triggers.sql" <<'SQL'
INSERT INTO triggers (organization_id, name, registry, created_at)
SELECT :'org', 'e2e-' || i, 'reputation', '2020-01-01' FROM generate_series(0, 999) i;
INSERT INTO trigger_conditions (trigger_id, condition_type, operator, value)
SELECT id, 'agent_id_equals', NULL, (substr(name, 5)::int % 500)::text FROM triggers;
INSERT INTO trigger_conditions (trigger_id, condition_type, operator, value)
SELECT id, 'score_threshold', '<', '50' FROM triggers;
INSERT INTO trigger_actions (trigger_id, action_type, config)
SELECT id, 'webhook', jsonb_build_object('url', :'sink') FROM triggers;
SQL
bench_triggers "${PSQL[@]}" -v sink="http://127.0.0.1:$SINK_PORT/hook" -- "$WORK/triggers.sql"
[ -n "${E2E_SQL:-}" ] && "${PSQL[@]}" -c "$E2E_SQL"
loaded=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$PROC_PORT/metrics" | grep -q '^auri_processor_triggers 1000$'; then
    loaded=1; break
  fi
  sleep 0.1
done
[ "$loaded" -eq 1 ] || { echo "the event-processor did not load the 1,000 triggers" >&2; exit 1; }

rss_line() {
  echo "RSS $1: api-gateway $(rss_mib "$(component_pid "$HOME_DIR" api-gateway)") MiB," \
    "action-workers $(rss_mib "$WORKERS_PID") MiB," \
    "event-processor $(rss_mib "$(component_pid "$HOME_DIR" event-processor)") MiB"
}
# Waits (bounded) until the event queue is empty and no job is pending or running. One count
# per status, so each uses its partial index: `status IN ('pending', 'running')` was a sequential
# scan of every job, 50-200 ms of PostgreSQL CPU per poll, counted as the workers' cost.
wait_idle() {
  local deadline=$(( $(date +%s) + $1 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$("${PSQL[@]}" -tA -c "SELECT (SELECT count(*) FROM event_queue) + (SELECT count(*) FROM action_jobs WHERE status = 'pending') + (SELECT count(*) FROM action_jobs WHERE status = 'running')")" = 0 ] && return 0
    sleep 0.5
  done
  echo "not idle after $1 s" >&2; return 1
}
# Waits (bounded) until the sink's log has at least $1 lines: no database connection per poll
# (each psql connection cost PostgreSQL ~30 ms of CPU, counted as the workers' cost).
wait_sink_lines() {
  local deadline=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    [ "$(wc -l < "$WORK/sink.log")" -ge "$1" ] && return 0
    sleep 0.2
  done
  echo "the sink did not receive $1 requests within $2 s" >&2; return 1
}
# CPU used by each part of the stack (ticks of 10 ms), so a result can be read independently of
# what else runs on the machine: "<worker> <postgres incl. archiving> <nginx> <api-gateway>
# <event-processor>".
PG_PID=$(head -1 "$(find "$HOME_DIR/postgres" -maxdepth 2 -name postmaster.pid | head -1)")
cpu_parts() {
  echo "$(cpu_ticks "$WORKERS_PID") $(cpu_ticks $(process_tree "$PG_PID"))" \
    "$(cpu_ticks $(process_tree "$(cat "$WORK/nginx.pid")"))" \
    "$(cpu_ticks "$(component_pid "$HOME_DIR" api-gateway)")" \
    "$(cpu_ticks "$(component_pid "$HOME_DIR" event-processor)")"
}
# cpu_report BEFORE AFTER COUNT WHAT: CPU per COUNT of WHAT, by process, from two cpu_parts.
cpu_report() {
  awk -v b="$1" -v a="$2" -v n="$3" -v what="$4" 'BEGIN {
    split(b, x, " "); split(a, y, " "); total = 0
    split("action-workers postgres nginx api-gateway event-processor", name, " ")
    line = ""
    for (i = 1; i <= 5; i++) { d = (y[i] - x[i]) * 10000 / n; total += d; line = line sprintf(" %s %.0f,", name[i], d) }
    printf "CPU per %s (us):%s total %.0f -> at most %.0f %s/s on 2 otherwise idle cores\n", what, line, total, 2e6 / total, what
  }'
}
# Where the time goes: mean duration of the event-processor's batch stages and of the
# action-workers' store steps (cumulative since start), from their /metrics.
stage_means() {
  { curl -s "http://127.0.0.1:$PROC_PORT/metrics"; curl -s "http://127.0.0.1:$WORKERS_PORT/metrics"; } |
    awk -v what="$1" -F'[{}" ]+' '
      /^auri_processor_stage_duration_seconds_(sum|count)/ || /^auri_delivery_store_step_seconds_(sum|count)/ {
        key = ($1 ~ /processor/ ? "processor " : "workers ") $3
        if ($1 ~ /_sum$/) sum[key] = $NF; else count[key] = $NF
      }
      END {
        line = ""
        for (k in sum) if (count[k] > 0) line = line sprintf(" %s %.1f ms (%d),", k, 1000 * sum[k] / count[k], count[k])
        print "mean stage time, " what ":" line
      }'
}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares the cores)"
rss_line "before load"

echo "1. latency: $RATE events/s for $SECONDS_LOAD s, $BATCH per request, $CLIENTS connections; 1,000 triggers"
cpu0=$(cpu_parts)
/usr/bin/python3 bench/e2e_driver.py paced "http://127.0.0.1:$API_PORT/api/v1/events" "$TOKEN" \
  "$RATE" "$SECONDS_LOAD" "$BATCH" "$CLIENTS" a "$WORK/sent.txt"
wait_idle 300
cpu1=$(cpu_parts)
read -r succeeded dead < <("${PSQL[@]}" -tA -F ' ' -c \
  "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'dead') FROM action_jobs")
received=$(wc -l < "$WORK/sink.log")
echo "jobs: $succeeded succeeded, $dead dead; sink received $received"
[ "$dead" -eq 0 ] && [ "$received" -ge "$succeeded" ] && [ "$succeeded" -gt 0 ] ||
  { echo "deliveries missing or dead" >&2; exit 1; }
"${PSQL[@]}" -tA -F ' ' -c "SELECT id, (extract(epoch FROM created_at) * 1000)::bigint FROM action_jobs" \
  > "$WORK/jobs.txt"
/usr/bin/python3 bench/e2e_driver.py latency "$WORK/sent.txt" "$WORK/sink.log" "$WORK/jobs.txt" |
  tee "$WORK/latency.txt"
cpu_report "$cpu0" "$cpu1" "$(wc -l < "$WORK/sent.txt")" event
stage_means "latency run"
rss_line "after the latency run"

echo "2. saturation: $JOBS pending webhook jobs per round, rounds: $ROUNDS"
: > "$WORK/rates.txt"
for r in $(seq "$ROUNDS"); do
  kill -STOP "$WORKERS_PID"
  "${PSQL[@]}" -v n="$JOBS" -v round="$r" <<'SQL'
INSERT INTO action_jobs (trigger_id, event_id, action_type, config, event_data)
SELECT t.id, 'sat-' || :round || '-' || g, 'webhook', a.config,
       jsonb_set(e.event_data, '{id}', to_jsonb('sat-' || :round || '-' || g))
FROM generate_series(0, :n - 1) g
JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM triggers) t ON t.k = g % 1000
JOIN trigger_actions a ON a.trigger_id = t.id
CROSS JOIN (SELECT event_data FROM action_jobs LIMIT 1) e;
SQL
  cpu0=$(cpu_parts)
  t0=$(date +%s%3N)
  lines0=$(wc -l < "$WORK/sink.log")
  kill -CONT "$WORKERS_PID"
  if [ -n "${E2E_PERF:-}" ]; then perf record -g -o "$E2E_PERF" -p "$WORKERS_PID" -- sleep 5 >/dev/null 2>&1 & fi
  wait_sink_lines $(( lines0 + JOBS )) 600
  wait_idle 600
  cpu1=$(cpu_parts)
  /usr/bin/python3 bench/e2e_driver.py drain "$WORK/sink.log" "$t0" "$JOBS" | tee "$WORK/drain.txt"
  cpu_report "$cpu0" "$cpu1" "$JOBS" action | tee -a "$WORK/cpu.txt"
  awk -F'[= ]' '/^RATE=/ {print $2}' "$WORK/drain.txt" >> "$WORK/rates.txt"
done
rss_line "after saturation"
stage_means "after saturation"

P50=$(awk -F'[= ]' '/^P50_MS=/ {print $2}' "$WORK/latency.txt")
P99=$(awk -F'[= ]' '/^P50_MS=/ {print $4}' "$WORK/latency.txt")
RATE_MEDIAN=$(median < "$WORK/rates.txt")
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg); summary: latency p50 $P50 ms (target <= 10 ms), p99 $P99 ms (target <= 50 ms);" \
  "saturation median $RATE_MEDIAN actions/s (target >= 5000)"
