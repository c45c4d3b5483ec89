#!/usr/bin/env bash
# Validation sweep of the LLP student's capacity and label weight on DATASET (transductive,
# SAGE teacher per seed, seeds 0..SEEDS-1, default LLP weights): one `gkd linkpred --method
# llp` per variant, JSON in benchmarks/sweeps/llp/. A student option also changes the plain
# MLP baseline of the same file (it has the student's architecture). Choose on the
# student's mean validation Hits@20 over datasets, never on test.
#   GKD_DATA_ROOT=../shared/datasets bash benchmarks/sweeps/llp_student.sh cora 5
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset=$1 seeds=$2
out=benchmarks/sweeps/llp
# Every variant names the width, so the sweep does not depend on the current default (256
# when it ran; 512 on Cora and CiteSeer since, its choice there).
declare -A variants=(
  [hidden512]="--set student.hidden_channels=512"
  [dropout0]="--set student.hidden_channels=256 --set student.dropout=0"
  [label0.1]="--set student.hidden_channels=256 --set distiller.label_weight=0.1"
)
for name in ${VARIANTS:-${!variants[@]}}; do
  file=$out/$dataset-$name.json
  # shellcheck disable=SC2086
  gkd linkpred --dataset "$dataset" --teacher sage --method llp --setting transductive \
    --seeds "$seeds" ${variants[$name]} --output "$file" --resume > /dev/null
done
python benchmarks/sweeps/summarize.py "$out/$dataset-*.json" mlp student
