#!/usr/bin/env bash
# The one script a GPU session runs (bench/gpu/README.md): finds or unpacks Node, records nvidia-smi,
# then runs the bundled smoke run (kiln doctor, corpus checks against CPU references, timings with
# PyTorch peers). Results: $OUT/smoke.json, $OUT/smoke.log, $OUT/nvidia-smi.csv.
set -u
cd "$(dirname "$0")/../.."
out=${OUT:-out/gpu}
carry=.cache/gpu
mkdir -p "$out"
if [ ! -f "$carry/smoke.mjs" ]; then
  echo "run.sh: $carry/smoke.mjs is missing; run bench/gpu/prepare.sh before the GPU session and carry $carry" >&2
  exit 2
fi

node=$(command -v node || true)
if [ -n "$node" ] && ! "$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  echo "run.sh: $node is $("$node" --version), older than Node 20; using the carried one" >&2
  node=""
fi
if [ -z "$node" ]; then
  if [ -f "$carry/node.xz" ] && command -v xz >/dev/null; then
    xz -dc "$carry/node.xz" > /tmp/kiln-node && chmod +x /tmp/kiln-node && node=/tmp/kiln-node
  else
    echo "run.sh: no node on PATH and no $carry/node.xz (run bench/gpu/prepare.sh --node)" >&2
    exit 3
  fi
fi
echo "node: $node $("$node" --version)"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv > "$out/nvidia-smi.csv" 2>&1 || true
cat "$out/nvidia-smi.csv"

timeout "${KILN_SMOKE_TIMEOUT:-540}" "$node" "$carry/smoke.mjs" --out "$out" --budget "${KILN_SMOKE_BUDGET:-420}" "$@" 2>&1 | tee "$out/smoke.log"
status=${PIPESTATUS[0]}
echo "run.sh: smoke exited with $status; results in $out"
exit "$status"
