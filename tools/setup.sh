#!/usr/bin/env bash
# Installs what esignet-c needs on Debian 12 (bookworm). Idempotent: only missing packages are
# installed. Usage: tools/setup.sh [--test] [--demo] [--bench]
#   (no flag)  build and runtime dependencies
#   --demo     also the demo relying party (Node.js, npm, tools/demo-rp's npm packages)
#   --test     also what the tests need (cmocka, clang/libFuzzer, python3, Node.js, JOSE oracles,
#              Apache with mod_auth_openidc, Chromium, the npm packages of tests/ and
#              tools/demo-rp)
#   --bench    also what tools/bench needs (wrk, nginx)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_test=0
want_bench=0
want_demo=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1; want_demo=1 ;;
    --demo) want_demo=1 ;;
    --bench) want_bench=1 ;;
    *) echo "usage: $0 [--test] [--demo] [--bench]" >&2; exit 2 ;;
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
  # The browser of tests/browser (driven by the npm playwright-core, which downloads none).
  pkgs+=(chromium)
fi
if [ "$want_bench" -eq 1 ]; then
  pkgs+=(wrk nginx-light procps)
fi
# Node.js and npm for the test clients and the demo relying party, from Debian unless a Node.js
# with npm is already there (npm packages are never needed to build or run the server).
if [ "$want_demo" -eq 1 ] && ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
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

# npm packages, pinned by each folder's package-lock.json, installed again when the lock file is
# newer than what was installed.
npm_ci() {
  local dir="$root/$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "setup: installing the npm packages of $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
}
if [ "$want_demo" -eq 1 ]; then
  npm_ci tools/demo-rp
fi
if [ "$want_test" -eq 1 ]; then
  npm_ci tests
fi
