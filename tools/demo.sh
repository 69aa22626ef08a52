#!/usr/bin/env bash
# Installs what is missing, builds, and runs the demo: esignetd with the demo configuration
# (config/esignet.yaml) on http://127.0.0.1:8088 and the demo relying party (tools/demo-rp) on
# http://127.0.0.1:8089, registered with esignetd through the client management API (again on
# every run: created the first time, brought up to date afterwards). Stop both with Ctrl-C.
# esignetd's log goes to var/esignetd.log; the server's data (keys, clients, consents) and the
# demo RP's key stay in var/.
#   DEMO_RP_PORT   port of the demo relying party (default 8089)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
issuer=${ESIGNET_ISSUER:-http://127.0.0.1:8088}
rp_port=${DEMO_RP_PORT:-8089}
var="$root/var"

"$root/tools/setup.sh" --demo
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DESG_TESTS=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc)"
mkdir -p "$var"

pids=()
stop_all() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'echo; echo "demo: stopping"; stop_all; exit 0' INT TERM
trap stop_all EXIT

log="$var/esignetd.log"
echo "demo: starting esignetd on $issuer (log: $log)"
"$root/build/core/esignetd" --config "$root/config/esignet.yaml" 2>>"$log" &
esignetd=$!
pids+=("$esignetd")

# Ready when /readyz answers 200; give up if esignetd exits or after 60 s.
for _ in $(seq 600); do
  if curl -fsS -o /dev/null --max-time 2 "$issuer/readyz" 2>/dev/null; then break; fi
  if ! kill -0 "$esignetd" 2>/dev/null; then
    echo "demo: esignetd stopped; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.1
done
curl -fsS -o /dev/null --max-time 2 "$issuer/readyz" || { echo "demo: esignetd is not ready after 60 s (see $log)" >&2; exit 1; }

# The demo RP registers itself with the demo admin token (config/esignet.yaml), read from the
# environment so that ps does not show it.
ESIGNET_ADMIN_TOKEN=demo-admin-token node "$root/tools/demo-rp/server.mjs" \
  --issuer "$issuer" --port "$rp_port" --client-id demo-rp --key "$var/demo-rp.private.jwk" &
rp=$!
pids+=("$rp")
for _ in $(seq 300); do
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$rp_port/static/style.css" 2>/dev/null; then break; fi
  if ! kill -0 "$rp" 2>/dev/null; then echo "demo: the demo relying party stopped" >&2; exit 1; fi
  sleep 0.1
done

cat <<EOF

  eSignet (esignetd)    $issuer   discovery: $issuer/.well-known/openid-configuration
  Demo relying party    http://127.0.0.1:$rp_port

  Open http://127.0.0.1:$rp_port and press "Sign in with eSignet";
  individual ID 8267411571, OTP 111111 (password Sid@Demo2024).
  Ctrl-C stops both.

EOF

# Until Ctrl-C, or until one of them stops by itself (then the other is stopped too). A terminal's
# Ctrl-C reaches all three processes at once, so the first to exit may be a child that stopped
# cleanly (status 0) before the trap above runs.
set +e
wait -n "${pids[@]}"
status=$?
if [ "$status" -eq 0 ]; then
  echo "demo: stopping"
  stop_all
  exit 0
fi
echo "demo: a process stopped with status $status (see $log); stopping the other" >&2
stop_all
exit 1
