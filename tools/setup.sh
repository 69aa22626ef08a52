#!/usr/bin/env bash
# Installs what esignet-c needs on Debian 12 (bookworm). Idempotent: only missing packages are
# installed. Usage: tools/setup.sh [--test] [--bench]
#   (no flag)  build and runtime dependencies
#   --test     also what the tests need (cmocka, clang/libFuzzer, python3, Node.js, JOSE oracles)
#   --bench    also what tools/bench needs (wrk, nginx)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    *) echo "usage: $0 [--test] [--bench]" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

pkgs=(build-essential cmake pkg-config ca-certificates libuv1-dev libssl-dev libjansson-dev
      libyaml-dev libsqlite3-dev openssl curl)
if [ "$want_test" -eq 1 ]; then
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev python3 jose librhonabwy-dev procps)
  # Relying parties for the end-to-end tests (tests/e2e): Apache with mod_auth_openidc.
  pkgs+=(apache2 libapache2-mod-auth-openidc)
fi
if [ "$want_bench" -eq 1 ]; then
  pkgs+=(wrk nginx-light procps)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  # nginx's post-install script tries to start a system nginx on port 80; we never want that.
  as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  as_root rm -f /usr/sbin/policy-rc.d
fi

# Node.js and npm for the test clients (npm packages are never needed to build or run the server).
if [ "$want_test" -eq 1 ] && ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs and npm"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi

# llhttp: Debian 12 packages its generated C sources only inside node-llhttp, which depends on
# Node.js. Unless that package is installed, extract the sources from the .deb without installing.
if [ ! -f /usr/share/llhttp/llhttp.c ] && [ ! -f "$root/.deps/node-llhttp/usr/share/llhttp/llhttp.c" ]; then
  echo "setup: extracting llhttp sources from node-llhttp"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download node-llhttp >/dev/null 2>&1) || {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    (cd "$tmp" && apt-get download node-llhttp)
  }
  mkdir -p "$root/.deps"
  rm -rf "$root/.deps/node-llhttp"
  dpkg-deb -x "$tmp"/node-llhttp_*.deb "$root/.deps/node-llhttp"
  rm -rf "$tmp"
fi

# npm packages used by the tests, pinned by tests/package-lock.json.
if [ "$want_test" -eq 1 ] && [ -f "$root/tests/package.json" ]; then
  if [ ! -d "$root/tests/node_modules" ] || [ "$root/tests/package-lock.json" -nt "$root/tests/node_modules" ]; then
    echo "setup: installing npm test packages"
    (cd "$root/tests" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$root/tests/node_modules"
  fi
fi
