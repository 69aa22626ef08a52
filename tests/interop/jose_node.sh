#!/bin/sh
# Runs jose_node.mjs; exits 77 (ctest SKIP) with a message when Node.js or the npm `jose` package
# is missing, so the test never passes without running.
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node not found (tools/setup.sh --test installs it)"
  exit 77
fi
if [ ! -f "$here/../node_modules/jose/package.json" ]; then
  echo "SKIP: npm package jose missing in tests/node_modules (run: cd tests && npm ci)"
  exit 77
fi
exec node "$here/jose_node.mjs"
