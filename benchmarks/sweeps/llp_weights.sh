#!/usr/bin/env bash
# Validation sweep of LLP's loss weights on DATASET (transductive, SAGE teacher, seeds
# 0..SEEDS-1, default epoch budget): one `gkd linkpred --method llp` per variant, JSON in
# benchmarks/sweeps/llp/. Teachers and plain MLPs come from the cache after the first
# variant. Choose on the student's mean validation Hits@20 over datasets, never on test.
#   GKD_DATA_ROOT=../shared/datasets bash benchmarks/sweeps/llp_weights.sh cora 5
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=$1 seeds=$2
out=benchmarks/sweeps/llp
# Every variant sets all three knobs, so the sweep does not depend on the current defaults
# (rank10-dist0.1 became the default; rank1-dist0.1 was the default before it).
declare -A variants=(
  [rank1-dist0.1]="--set distiller.rank_weight=1 --set distiller.dist_weight=0.1 --set distiller.margin=0.05"
  [rank1]="--set distiller.rank_weight=1 --set distiller.dist_weight=0 --set distiller.margin=0.05"
  [rank10]="--set distiller.rank_weight=10 --set distiller.dist_weight=0 --set distiller.margin=0.1"
  [rank10-dist0.1]="--set distiller.rank_weight=10 --set distiller.dist_weight=0.1 --set distiller.margin=0.1"
)
for name in ${VARIANTS:-${!variants[@]}}; do
  file=$out/$dataset-$name.json
  [ -f "$file" ] && continue
  # shellcheck disable=SC2086
  # the student's width as when the sweep ran (256; the default is 512 on Cora and CiteSeer now)
  gkd linkpred --dataset "$dataset" --teacher sage --method llp --setting transductive \
    --seeds "$seeds" ${variants[$name]} --set student.hidden_channels=256 \
    --output "$file" > /dev/null
done
python benchmarks/sweeps/summarize.py "$out/$dataset-*.json" mlp student
