#!/usr/bin/env bash
# PostgreSQL-only cost of the action-workers' claim + finish statements per job (an A/B tool for schema
# changes; numbers in docs/benchmarks.md, issue 5): `auri up` with the workers stopped, N pending
# webhook jobs, then pgbench runs bench/delivery_sql_loop.sql (claim B, finish B with result rows;
# the statements of src/store/job_repository.cc, planned on every call (-M extended) and with asynchronous commit like the workers) on C clients.
# Usage: bench/delivery_sql.sh [SQL_FILE run before the jobs are inserted]; env N (50000), B (200), C (2).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${N:-50000}; B=${B:-200}
WORK=$(mktemp -d /tmp/auri-sqlb-XXXXXX); chmod 755 "$WORK"
API_PORT=$(free_port 1); PG_PORT=$(free_port 2); REDIS_PORT=$(free_port 3); PROC_PORT=$(free_port 4)
WORKERS_PORT=$(free_port 5)
AURI=(./build/auri --set general.home="$WORK/home" --set api.port="$API_PORT" --set postgres.port="$PG_PORT"
      --set redis.port="$REDIS_PORT" --set log.level=warn --set processor.metrics_port="$PROC_PORT"
      --set delivery.metrics_port="$WORKERS_PORT" --set delivery.max_pending=100000000 --set dr_agent.metrics_port=$(free_port 7))
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d auri)
cleanup() { "${AURI[@]}" down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
"${AURI[@]}" up >/dev/null
HOME_DIR="$WORK/home"
kill -STOP "$(component_pid "$HOME_DIR" action-workers)"
cat > "$WORK/triggers.sql" <<'SQL'
INSERT INTO triggers (organization_id, name, registry, created_at)
SELECT :'org', 'e2e-' || i, 'reputation', '2020-01-01' FROM generate_series(0, 999) i;
INSERT INTO trigger_actions (trigger_id, action_type, config)
SELECT id, 'webhook', jsonb_build_object('url', 'http://127.0.0.1:9/hook') FROM triggers;
SQL
bench_triggers "${PSQL[@]}" -- "$WORK/triggers.sql"
[ -n "${1:-}" ] && "${PSQL[@]}" -f "$1"
EV='{"id":"reputation-1-0xabc-1","registry":"reputation","chain_id":1,"block_number":123456,"block_hash":"0x1111111111111111111111111111111111111111111111111111111111111111","transaction_hash":"0x2222222222222222222222222222222222222222222222222222222222222222","log_index":1,"timestamp":1764000000,"event_type":"NewFeedback","agent_id":"42","client_address":"0x3333333333333333333333333333333333333333","score":37,"tag1":"0x0000000000000000000000000000000000000000000000000000000000000000","tag2":"0x0000000000000000000000000000000000000000000000000000000000000000","file_uri":"ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi","file_hash":"0x4444444444444444444444444444444444444444444444444444444444444444"}'
"${PSQL[@]}" -v n="$N" -v ev="$EV" <<'SQL'
INSERT INTO action_jobs (trigger_id, action_id, event_id, action_type, config, event_data)
SELECT t.id, a.id, 'sat-' || g, 'webhook', a.config, jsonb_set(:'ev'::jsonb, '{id}', to_jsonb('sat-' || g))
FROM generate_series(0, :n - 1) g
JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM triggers) t ON t.k = g % 1000
JOIN trigger_actions a ON a.trigger_id = t.id;

SQL
SCRIPT=${SCRIPT:-bench/delivery_sql_loop.sql}
export PGOPTIONS="-c synchronous_commit=off"
PG_PID=$(head -1 "$(find "$HOME_DIR/postgres" -maxdepth 2 -name postmaster.pid | head -1)")
lsn0=$("${PSQL[@]}" -tA -c "SELECT pg_current_wal_lsn()")
c0=$(cpu_ticks $(process_tree "$PG_PID")); t0=$(date +%s%N)
pgbench -n -M extended -h 127.0.0.1 -p "$PG_PORT" -U postgres -c ${C:-2} -j 2 -t $(( N / B / ${C:-2} )) -D b=$B -f "$SCRIPT" auri 2>&1 | grep -E "tps|latency average|failed|aborted|error" || true
c1=$(cpu_ticks $(process_tree "$PG_PID")); t1=$(date +%s%N)
wal=$("${PSQL[@]}" -tA -c "SELECT pg_current_wal_lsn() - '$lsn0'::pg_lsn")
"${PSQL[@]}" -c "VACUUM action_jobs, action_results"
seg=$("${PSQL[@]}" -tA -c "SELECT pg_walfile_name(pg_current_wal_lsn())"); "${PSQL[@]}" -tA -c "SELECT pg_switch_wal()" >/dev/null
for i in $(seq 300); do [ "$("${PSQL[@]}" -tA -c "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")" = t ] && break; sleep 0.2; done
sleep 1
c2=$(cpu_ticks $(process_tree "$PG_PID"))
echo "WAL per job: $(( wal / N )) bytes; PG CPU per job incl. vacuum + archiving: $(( (c2 - c0) * 10000 / N )) us"
"${PSQL[@]}" -tA -c "SELECT status, count(*) FROM action_jobs GROUP BY 1 ORDER BY 1" | tr '\n' ' '; echo
"${PSQL[@]}" -tA -c "SELECT count(*) AS results FROM action_results"
"${PSQL[@]}" -tA -c "SELECT 'hot_upd', n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname='action_jobs'"
echo "PG CPU per job: $(( (c1 - c0) * 10000 / N )) us; wall $(( (t1 - t0) / 1000000 )) ms -> $(( N * 1000000000 / (t1 - t0) )) jobs/s"
[ -n "${KEEP:-}" ] && { echo "PSQL: ${PSQL[*]}"; sleep "$KEEP"; }
true
