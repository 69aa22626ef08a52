#!/usr/bin/env bash
# Discovery and JWKS throughput of esignetd against nginx serving the same JSON bytes as static
# files, in one run on this machine. Both servers get the same number of workers and listen on
# 127.0.0.1; wrk drives each URL in turn.
#   usage: tools/bench/http_bench.sh [SECONDS] [CONNECTIONS]
#   env:   ESG_BENCH_WORKERS (default: number of cores), ESG_BENCH_THREADS (wrk threads, default 2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-10}
conns=${2:-64}
workers=${ESG_BENCH_WORKERS:-$(nproc)}
wrk_threads=${ESG_BENCH_THREADS:-2}

"$root/tools/setup.sh" --bench >/dev/null
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DESG_TESTS=OFF >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" >/dev/null

work=$(mktemp -d)
# nginx workers run as an unprivileged user and must reach the static files.
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() {
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "bench: $1 did not answer" >&2; return 1
}

run_esignetd() { # $1 = access log on/off
  local port=$2
  cat >"$work/esignet.yaml" <<YAML
issuer: http://127.0.0.1:8088
server:
  listen: ["127.0.0.1:$port"]
  workers: $workers
log:
  level: warn
  access: $1
plugins:
  dirs: ["$root/build-bench/modules"]
  load: [keystore-file, storage-sqlite]
storage:
  persistent: {type: sqlite, options: {path: $work/esignet.db}}
key_stores:
  - {name: main, type: file, options: {dir: $work/keys, algorithms: [RS256, ES256]}}
YAML
  "$root/build-bench/core/esignetd" --config "$work/esignet.yaml" 2>>"$work/esignetd.log" &
  pids+=($!)
  wait_http "http://127.0.0.1:$port/readyz"
}

measure() { # $1 label, $2 url, $3 key for the ratio
  wrk -t"$wrk_threads" -c"$conns" -d2s "$2" >/dev/null 2>&1 || true
  local out
  out=$(wrk -t"$wrk_threads" -c"$conns" -d"${seconds}s" --latency "$2")
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '| %-34s | %10s | %8s | %8s | %s |\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
  [ -z "${3:-}" ] || echo "$rps" >"$work/rps.$3"
}

# esignetd, access log off (like nginx below) and on (the default).
eport=$(free_port)
run_esignetd false "$eport"
curl -sf "http://127.0.0.1:$eport/.well-known/openid-configuration" >"$work/openid-configuration"
curl -sf "http://127.0.0.1:$eport/.well-known/jwks.json" >"$work/jwks.json"

# nginx serving the same bytes, same workers, access log off, keep-alive as wrk uses it.
nport=$(free_port)
mkdir -p "$work/www/.well-known" "$work/nginx"
cp "$work/openid-configuration" "$work/www/.well-known/openid-configuration"
cp "$work/jwks.json" "$work/www/.well-known/jwks.json"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes $workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  # nginx at its best for this job: no access log, file descriptors and metadata cached, no
  # sendfile (slower than read+write for 1-2 KB files here).
  access_log off;
  open_file_cache max=64 inactive=60s;
  open_file_cache_valid 60s;
  sendfile off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport reuseport;
    root $work/www;
    default_type application/json;
    location / { try_files \$uri =404; }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon off;' &
pids+=($!)
wait_http "http://127.0.0.1:$nport/.well-known/jwks.json"

echo "bench: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "bench: wrk -t$wrk_threads -c$conns -d${seconds}s --latency; servers with $workers workers"
printf '| %-34s | %10s | %8s | %8s | %s |\n' "target" "req/s" "p50" "p99" "non-2xx"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "----------" "---------"
measure "nginx discovery (static file)" "http://127.0.0.1:$nport/.well-known/openid-configuration" nd
measure "esignetd discovery" "http://127.0.0.1:$eport/.well-known/openid-configuration" ed
measure "nginx JWKS (static file)" "http://127.0.0.1:$nport/.well-known/jwks.json" nj
measure "esignetd JWKS" "http://127.0.0.1:$eport/.well-known/jwks.json" ej

kill -TERM "${pids[0]}"; wait "${pids[0]}" || true
aport=$(free_port)
run_esignetd true "$aport" 2>/dev/null
measure "esignetd JWKS, access log on" "http://127.0.0.1:$aport/.well-known/jwks.json" 2>/dev/null

ratio() { python3 -c "print(f'{100*$1/$2:.0f}%')"; }
d=$(ratio "$(cat "$work/rps.ed")" "$(cat "$work/rps.nd")")
j=$(ratio "$(cat "$work/rps.ej")" "$(cat "$work/rps.nj")")
echo "bench: esignetd/nginx: discovery $d, JWKS $j (target >= 80%)"
