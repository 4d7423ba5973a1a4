#!/usr/bin/env bash
# The one script a GPU session runs (bench/gpu/README.md): finds or unpacks Node, records nvidia-smi,
# then runs, each bounded in time and guarded (a failure is recorded and the next part still runs):
#   1. the backend-equivalence suite on the cuda device (equivalence.mjs): GRAD_CASES and the program
#      corpus against the interpreter, the AAA block at dim 1024 run and timed;
#   2. the kernel smoke run (smoke.mjs): kiln doctor, corpus kernels against CPU references, timings
#      with PyTorch peers.
# Results: $OUT/equivalence.json, $OUT/equivalence.log, $OUT/smoke.json, $OUT/smoke.log, $OUT/nvidia-smi.csv.
# KILN_GPU_PARTS picks parts ("equivalence smoke" by default); KILN_EQUIVALENCE_BUDGET / _TIMEOUT and
# KILN_SMOKE_BUDGET / _TIMEOUT bound them (seconds). Extra arguments go to the smoke run.
set -u
cd "$(dirname "$0")/../.."
out=${OUT:-out/gpu}
carry=.cache/gpu
parts=${KILN_GPU_PARTS:-equivalence smoke}
mkdir -p "$out"
for part in $parts; do
  if [ ! -f "$carry/$part.mjs" ]; then
    echo "run.sh: $carry/$part.mjs is missing; run bench/gpu/prepare.sh before the GPU session and carry $carry" >&2
    exit 2
  fi
done

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

status=0
for part in $parts; do
  case "$part" in
    equivalence)
      timeout "${KILN_EQUIVALENCE_TIMEOUT:-230}" "$node" "$carry/equivalence.mjs" --out "$out" --budget "${KILN_EQUIVALENCE_BUDGET:-200}" 2>&1 | tee "$out/equivalence.log"
      code=${PIPESTATUS[0]} ;;
    smoke)
      timeout "${KILN_SMOKE_TIMEOUT:-300}" "$node" "$carry/smoke.mjs" --out "$out" --budget "${KILN_SMOKE_BUDGET:-240}" "$@" 2>&1 | tee "$out/smoke.log"
      code=${PIPESTATUS[0]} ;;
    *)
      echo "run.sh: unknown part '$part' (expected equivalence or smoke)" >&2
      code=2 ;;
  esac
  echo "run.sh: $part exited with $code"
  [ "$code" -ne 0 ] && status=$code
done
echo "run.sh: done (status $status); results in $out"
exit "$status"
