#!/usr/bin/env bash
# JOSE throughput on one core next to OpenSSL's own bound for the same primitives, in one run.
#   usage: tools/bench/jose_bench.sh [SECONDS_PER_OPERATION]   (default 3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-3}
"$root/tools/setup.sh" >/dev/null
cmake -S "$root" -B "$root/build-bench" -DCMAKE_BUILD_TYPE=Release -DESG_TESTS=OFF >/dev/null
cmake --build "$root/build-bench" -j"$(nproc)" --target esg-jose-bench >/dev/null
pin=""
if command -v taskset >/dev/null 2>&1; then pin="taskset -c 1"; fi
echo "bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), $($pin true && echo pinned to core 1 || echo unpinned)"
echo "bench: esg-jose-bench $seconds (one thread)"
$pin "$root/build-bench/tools/bench/esg-jose-bench" "$seconds"
echo "bench: openssl speed -seconds $seconds ecdsap256 rsa2048 ed25519 (one thread)"
$pin openssl speed -seconds "$seconds" ecdsap256 rsa2048 ed25519 2>/dev/null | grep -E 'bits|sign/s' | sort -u
