#!/usr/bin/env bash
# The GPU check, prepared for a session that is lent a device machine (the `device` tool):
# the whole test suite with a GPU visible (the CUDA tests skip elsewhere), then GPU timings of
# teacher against student (nodes and links), Cora distillations and a MUTAG condensation on
# the GPU, in one command of a few minutes.
#
# Here, once:  bash benchmarks/gpu_check.sh prepare
#   puts the wheels the device image lacks (ogb and its two small dependencies) into .whl/
#   and the Cora npz, A-computer and MUTAG raw files into datasets/ (both ignored by git).
# There:       device run, command "bash benchmarks/gpu_check.sh", carry [".whl", "datasets"]
#   installs gkd without network under the image's python3 and writes its logs and JSON
#   under $OUT. DEVICE=cpu runs the same steps on a machine without a GPU (a dry run).
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = prepare ]; then
  set -e
  python -m pip download --quiet --no-deps --dest .whl ogb==1.3.6 outdated littleutils
  mkdir -p datasets/npz datasets/Amazon/Computers
  cp ../shared/datasets/npz/cora.npz datasets/npz/
  cp -r ../shared/datasets/Amazon/Computers/raw datasets/Amazon/Computers/
  mkdir -p datasets/TU/MUTAG
  cp -r ../shared/datasets/TU/MUTAG/raw datasets/TU/MUTAG/
  exit 0
fi

OUT=${OUT:-/tmp/gkd-gpu-check}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"
export GKD_CACHE_DIR=${GKD_CACHE_DIR:-/tmp/gkd-gpu-check-cache} PYTHONUNBUFFERED=1
failed=()

# (the device returns at most 8 files: one log and the JSON of each timing and run)
step() {  # step NAME COMMAND...: runs the command into $OUT/check.log, goes on if it fails
  local name=$1
  shift
  echo "== $name: $*" | tee -a "$OUT/check.log"
  "$@" 2>&1 | tee -a "$OUT/check.log" | tail -n 5
  [ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("$name")
}

step install bash -c "$PYTHON -m pip install --quiet --no-index --no-deps .whl/*.whl && \
  $PYTHON -m pip install --quiet --no-deps --no-build-isolation -e . && \
  $PYTHON -c 'import torch, torch_geometric, gkd; print(torch.__version__, \
  torch_geometric.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())'"
# the suite without the data root: the dataset tests skip, every CUDA test runs
step tests env -u GKD_DATA_ROOT "$PYTHON" -m pytest -q -rs -p no:cacheprovider tests

export GKD_DATA_ROOT=datasets
gkd=("$PYTHON" -m gkd)
step speed-products "${gkd[@]}" speed --dataset synthetic:products --device "$DEVICE" \
  --max-seconds 5 --set teacher.num_layers=3 --set teacher.hidden_channels=256 \
  --set student.num_layers=3 --set student.hidden_channels=2048 \
  --output "$OUT/speed-synthetic-products.json"
step speed-a-computer "${gkd[@]}" speed --dataset a-computer --device "$DEVICE" \
  --max-seconds 5 --output "$OUT/speed-a-computer.json"
step speed-a-computer-links "${gkd[@]}" speed --dataset a-computer --task link \
  --device "$DEVICE" --max-seconds 5 --output "$OUT/speed-a-computer-links.json"
for method in glnn krd vqgraph; do
  step "distill-cora-$method" "${gkd[@]}" distill --dataset cora --method "$method" \
    --device "$DEVICE" --seeds 2 --output "$OUT/distill-cora-$method.json"
done
step condense-mutag "${gkd[@]}" condense --dataset mutag --device "$DEVICE" --seeds 2 --full \
  --output "$OUT/condense-mutag.json"

echo "== failed steps: ${failed[*]:-none}" | tee -a "$OUT/check.log"
[ ${#failed[@]} -eq 0 ]
