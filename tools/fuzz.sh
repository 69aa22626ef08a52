#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a while, starting from the committed seed
# corpus (copied, so the repository is not modified). Usage: tools/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for bin in "$build"/tests/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); short=${name#fuzz_}
  mkdir -p "$work/$short"
  if [ -d "$root/tests/fuzz/corpus/$short" ]; then cp -r "$root/tests/fuzz/corpus/$short/." "$work/$short/"; fi
  echo "fuzz: $name for ${seconds}s"
  if ! (cd "$work" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=0 "$work/$short" >"$work/$short.log" 2>&1); then
    echo "fuzz: $name FAILED; last lines of its log:"; tail -n 40 "$work/$short.log"
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null || true
    status=1
  fi
done
exit $status
