#!/usr/bin/env bash
# The one script a GPU session runs (bench/gpu/README.md): finds or unpacks Node, records nvidia-smi,
# then runs, each bounded in time and guarded (a failure is recorded and the next part still runs):
#   1. equivalence: the backend-equivalence suite on the cuda device (equivalence.mjs): GRAD_CASES and the
#      program corpus against the interpreter, the AAA block at dim 1024 run and timed;
#   2. smoke: the kernel smoke run (smoke.mjs): kiln doctor, corpus kernels against CPU references, timings
#      with PyTorch peers;
#   3. train: kiln's AAADiT 0.1B training step (bf16, batch 32, AdamW), fused-norm rows and, where libnccl is
#      found (KILN_NCCL_PATH), NCCL's in-place sum of the model's gradients at world size 1 (train.mjs), then
#      the same in PyTorch eager and torch.compile (bench/peers/aaa_dit_torch.py), same card, same run;
# and last, always, the merge (merge.mjs): $OUT/gpu-<card>-<date>.json in the CUDA issue's format and the
# short table.
# Results: $OUT/{equivalence,smoke,train,train-torch}.{json,log}, $OUT/nvidia-smi.csv, $OUT/gpu-<card>-<date>.json.
# KILN_GPU_PARTS picks parts ("equivalence smoke train" by default; "train-kiln" or "train-torch" runs one side
# of train). KILN_GPU_TOTAL (560 s) bounds the whole
# run, since one device call may take at most 600 s: a part that no longer fits in what is left is skipped
# (and said so), and each part's timeout shrinks to what is left. Per part: KILN_EQUIVALENCE_BUDGET / _TIMEOUT,
# KILN_SMOKE_BUDGET / _TIMEOUT, KILN_TRAIN_BUDGET / _TIMEOUT (kiln's side), KILN_TORCH_BUDGET / _TIMEOUT (the
# PyTorch peer), in seconds. KILN_TRAIN_ARGS adds arguments to train.mjs; KILN_PYTHON names the Python
# (python3). Extra arguments go to the smoke run.
set -u
cd "$(dirname "$0")/../.."
start=$SECONDS
out=${OUT:-out/gpu}
carry=.cache/gpu
parts=${KILN_GPU_PARTS:-equivalence smoke train}
total=${KILN_GPU_TOTAL:-560}
python=${KILN_PYTHON:-python3}
mkdir -p "$out"
for part in $parts merge; do
  case "$part" in train | train-kiln) bundle=train ;; train-torch) continue ;; *) bundle=$part ;; esac
  if [ ! -f "$carry/$bundle.mjs" ]; then
    echo "run.sh: $carry/$bundle.mjs is missing; run bench/gpu/prepare.sh before the GPU session and carry $carry" >&2
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

# bounded WANT NEED: the timeout a step may use, WANT seconds or what is left of the run (keeping 20 s for
# the merge), whichever is less; 0 when that is under NEED, the least the step is worth starting with.
bounded() {
  local want=$1 need=$2 left
  left=$((total - (SECONDS - start) - 20))
  [ "$left" -lt "$want" ] && want=$left
  [ "$want" -lt "$need" ] && want=0
  echo "$want"
}
# min A B
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }

# The train part: kiln first (the shorter side), then the PyTorch peer in its own process, so neither holds GPU
# memory while the other is timed. "train-kiln" and "train-torch" run one side (a rerun of one side).
train_kiln() {
  local t
  t=$(bounded "${KILN_TRAIN_TIMEOUT:-150}" 60)
  if [ "$t" -eq 0 ]; then echo "run.sh: skipping train (kiln): $((total - (SECONDS - start)))s left of KILN_GPU_TOTAL=${total}s"; return; fi
  # shellcheck disable=SC2086 # KILN_TRAIN_ARGS is a list of arguments
  timeout "$t" "$node" "$carry/train.mjs" --out "$out" --budget "$(min "${KILN_TRAIN_BUDGET:-120}" $((t - 30)))" ${KILN_TRAIN_ARGS:-} 2>&1 | tee "$out/train.log"
  record "train (kiln)" "${PIPESTATUS[0]}"
}
train_torch() {
  local t budget code
  t=$(bounded "${KILN_TORCH_TIMEOUT:-260}" 60)
  if [ "$t" -eq 0 ]; then echo "run.sh: skipping train (torch peer): $((total - (SECONDS - start)))s left of KILN_GPU_TOTAL=${total}s"; return; fi
  if ! command -v "$python" >/dev/null; then
    echo "run.sh: no $python on this machine: the torch peer cannot run"
    status=4
    return
  fi
  budget=$(min "${KILN_TORCH_BUDGET:-230}" $((t - 20)))
  echo "torch peer: $python bench/peers/aaa_dit_torch.py --json --budget $budget"
  timeout "$t" "$python" bench/peers/aaa_dit_torch.py --json --budget "$budget" > "$out/train-torch.json" 2> "$out/train-torch.log"
  code=$?
  tail -n 30 "$out/train-torch.log"
  record "train (torch peer)" "$code"
}

status=0
record() { # record PART CODE
  echo "run.sh: $1 exited with $2"
  [ "$2" -ne 0 ] && status=$2
  return 0
}
for part in $parts; do
  case "$part" in
    equivalence)
      t=$(bounded "${KILN_EQUIVALENCE_TIMEOUT:-230}" 60)
      if [ "$t" -eq 0 ]; then echo "run.sh: skipping equivalence: $((total - (SECONDS - start)))s left of KILN_GPU_TOTAL=${total}s"; continue; fi
      timeout "$t" "$node" "$carry/equivalence.mjs" --out "$out" --budget "$(min "${KILN_EQUIVALENCE_BUDGET:-200}" $((t - 30)))" 2>&1 | tee "$out/equivalence.log"
      record equivalence "${PIPESTATUS[0]}" ;;
    smoke)
      t=$(bounded "${KILN_SMOKE_TIMEOUT:-300}" 60)
      if [ "$t" -eq 0 ]; then echo "run.sh: skipping smoke: $((total - (SECONDS - start)))s left of KILN_GPU_TOTAL=${total}s"; continue; fi
      timeout "$t" "$node" "$carry/smoke.mjs" --out "$out" --budget "$(min "${KILN_SMOKE_BUDGET:-240}" $((t - 60)))" "$@" 2>&1 | tee "$out/smoke.log"
      record smoke "${PIPESTATUS[0]}" ;;
    train) train_kiln; train_torch ;;
    train-kiln) train_kiln ;;
    train-torch) train_torch ;;
    *)
      echo "run.sh: unknown part '$part' (expected equivalence, smoke, train, train-kiln or train-torch)" >&2
      status=2 ;;
  esac
done
echo "run.sh: parts done in $((SECONDS - start)) s (status $status); results in $out"
# The merge reads whatever the parts left in $out and prints the table last.
"$node" "$carry/merge.mjs" --out "$out" || { echo "run.sh: merge failed"; [ "$status" -eq 0 ] && status=5; }
exit "$status"
