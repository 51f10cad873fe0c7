#!/usr/bin/env bash
# GET /health throughput of the api-gateway vs nginx serving a static 60-byte JSON, same machine,
# same run, same load (wrk, 64 keep-alive connections). Target (spec 50-quality-bars): >= 40 %.
#
# Usage: bench/http_health.sh [--smoke]    (--smoke: 1 short round, for CI; not a measurement)
# Prints each round and the median ratio; paste the output into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROUNDS=3; DURATION=10s; CONNS=64; THREADS=2
if [ "${1:-}" = "--smoke" ]; then ROUNDS=1; DURATION=2s; fi

bench_prepare

WORK=$(mktemp -d /tmp/auri-bench-XXXXXX); chmod 755 "$WORK"
NGINX_PORT=$(free_port 1); API_PORT=$(free_port 2); PG_PORT=$(free_port 3); REDIS_PORT=$(free_port 4)
PROC_PORT=$(free_port 5)
AURI=(./build/auri --set general.home="$WORK/home" --set api.port="$API_PORT" --set api.threads=2
      --set postgres.port="$PG_PORT" --set redis.port="$REDIS_PORT" --set log.level=warn
      --set processor.metrics_port="$PROC_PORT")

cleanup() {
  "${AURI[@]}" down >/dev/null 2>&1 || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# nginx: static JSON of exactly 60 bytes, keep-alive, as many workers as cores.
BODY='{"status":"healthy","database":"connected","redis":"up!!!!"}'
[ ${#BODY} -eq 60 ] || { echo "reference body must be 60 bytes" >&2; exit 2; }
cat > "$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /health { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
nginx -c "$WORK/nginx.conf"
"${AURI[@]}" up >/dev/null

rps() { wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$1" | awk '/Requests\/sec/ {print $2}'; }

echo "wrk -t$THREADS -c$CONNS -d$DURATION; rounds: $ROUNDS (alternating)"
: > "$WORK/nginx.txt"; : > "$WORK/auri.txt"
for i in $(seq "$ROUNDS"); do
  n=$(rps "http://127.0.0.1:$NGINX_PORT/health"); echo "$n" >> "$WORK/nginx.txt"
  a=$(rps "http://127.0.0.1:$API_PORT/health");   echo "$a" >> "$WORK/auri.txt"
  echo "round $i: nginx $n req/s, auri $a req/s"
done
N=$(median < "$WORK/nginx.txt"); A=$(median < "$WORK/auri.txt")
RATIO=$(awk -v a="$A" -v n="$N" 'BEGIN { printf "%.1f", 100 * a / n }')
echo "median: nginx $N req/s, auri $A req/s, ratio $RATIO % (target >= 40 %)"
RSS=$(ps -o rss= -p "$(jq -r '.components[] | select(.name=="api-gateway") | .pid' "$WORK/home/run/stack.json")")
echo "api-gateway RSS after load: $((RSS / 1024)) MiB"
