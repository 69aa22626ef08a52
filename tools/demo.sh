#!/usr/bin/env bash
# Installs what is missing, builds, and starts esignetd with the demo configuration
# (config/esignet.yaml) on http://127.0.0.1:8088. Stop it with Ctrl-C (a graceful shutdown).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

"$root/tools/setup.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DESG_TESTS=OFF >/dev/null
cmake --build "$root/build" -j"$(nproc)"
mkdir -p "$root/var"
echo "demo: starting esignetd on http://127.0.0.1:8088 (discovery: /.well-known/openid-configuration)"
exec "$root/build/core/esignetd" --config "$root/config/esignet.yaml"
