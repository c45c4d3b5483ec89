#!/usr/bin/env bash
# Validation sweep of VQGraph's tokenizer on DATASET (CPF, SAGE backbone, seeds 0..SEEDS-1):
# one `gkd distill --method vqgraph` per variant, JSON in benchmarks/sweeps/vqgraph/.
# Choose on the student's (and tokenizer's) mean validation accuracy, never on test.
#   GKD_DATA_ROOT=../shared/datasets bash benchmarks/sweeps/vqgraph_tokenizer.sh cora transductive 4
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=$1 setting=$2 seeds=$3
out=benchmarks/sweeps/vqgraph
declare -A variants=(
  [default]=""
  [layers1]="--set teacher.num_layers=1"
  [codes2048]="--set teacher.num_codes=2048"
)
for name in ${VARIANTS:-${!variants[@]}}; do
  file=$out/$dataset-$setting-$name.json
  [ -f "$file" ] && continue
  # shellcheck disable=SC2086
  gkd distill --dataset "$dataset" --protocol cpf --teacher sage --method vqgraph \
    --setting "$setting" --seeds "$seeds" ${variants[$name]} --output "$file" > /dev/null
done
python - "$out" "$dataset-$setting" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(f"{sys.argv[1]}/{sys.argv[2]}-*.json")):
    s = json.load(open(path))["summary"]
    print(f"{path.rsplit('/', 1)[1]:45s} teacher val {s['teacher']['val']['mean']:.2f}  "
          f"student val {s['student']['val']['mean']:.2f}")
PY
