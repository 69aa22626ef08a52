#!/usr/bin/env bash
# Installs the build into a temporary prefix, builds the plugin template against it with
# pkg-config only, and checks that esignetd lists the plugin and validates its options.
set -euo pipefail
build=$1
template=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
test "$(pkg-config --variable=abi_version esignet-plugin)" = \
     "$(sed -n 's/^#define ESP_ABI_MAJOR \([0-9]*\)$/\1/p' "$work/prefix/include/esignet/plugin.h").$(sed -n 's/^#define ESP_ABI_MINOR \([0-9]*\)$/\1/p' "$work/prefix/include/esignet/plugin.h")"
cmake -S "$template" -B "$work/plugin" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin" >/dev/null
so="$work/plugin/audit-jsonl.so"

# Exactly one exported symbol.
exports=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
test "$exports" = "esp_plugin_describe" || { echo "unexpected exports: $exports"; exit 1; }

esignetd="$work/prefix/bin/esignetd"
listing=$("$esignetd" --list-plugins "$so")
echo "$listing"
grep -q "audit-jsonl 1.0.0 (plugin ABI $(pkg-config --variable=abi_version esignet-plugin))" <<<"$listing"
grep -q 'audit sink "jsonl"' <<<"$listing"
grep -q 'max_queue' <<<"$listing"

cat >"$work/ok.yaml" <<YAML
issuer: http://127.0.0.1:8088
plugins:
  dirs: [$work/prefix/lib/esignet/plugins]
  load: [storage-sqlite, $so]
storage:
  persistent:
    type: sqlite
    options: {path: $work/db.sqlite}
audit_sinks:
  - name: file
    type: jsonl
    options: {path: $work/audit.jsonl, max_queue: 100}
YAML
"$esignetd" --check-config "$work/ok.yaml" >/dev/null

# A wrong option type is reported with its position.
sed 's/max_queue: 100/max_queue: lots/' "$work/ok.yaml" >"$work/bad.yaml"
if "$esignetd" --check-config "$work/bad.yaml" 2>"$work/err.txt" >/dev/null; then
  echo "bad option accepted"; exit 1
fi
cat "$work/err.txt"
grep -q 'bad.yaml:[0-9]*:[0-9]*: .*max_queue' "$work/err.txt"
echo "out-of-tree plugin: OK"
