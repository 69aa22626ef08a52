#!/usr/bin/env bash
# Installs what is missing (including test tools), builds with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test: unit, ABI, fuzz-corpus replays, JOSE interop,
# integration (a real esignetd on 127.0.0.1), end to end with real relying parties, the browser
# tests (headless Chromium), the out-of-tree plugin build, and a short libFuzzer run of every fuzz
# target. Exits non-zero when anything fails.
#   ESG_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips the libFuzzer run)
#   ESG_TEST_JOBS     parallel ctest jobs (default: number of cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${ESG_TEST_JOBS:-$(nproc)}
fuzz_seconds=${ESG_FUZZ_SECONDS:-10}

"$root/tools/setup.sh" --test

build="$root/build-test"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DESG_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$jobs"
# setup.sh --test installed every test tool: a test that would skip for a missing one fails here.
export ESG_TESTS_REQUIRE_ALL=1
# Leak checking stays on; abort on the first report so a failure is never missed.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$jobs"

if [ "$fuzz_seconds" -gt 0 ]; then
  fuzz="$root/build-fuzz"
  CC=clang cmake -S "$root" -B "$fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DESG_FUZZ=ON >/dev/null
  cmake --build "$fuzz" -j"$jobs" --target esg_fuzz_targets
  "$root/tools/fuzz.sh" "$fuzz" "$fuzz_seconds"
fi
echo "test: all tests passed"
