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
  [dim128]="--set teacher.code_dim=128"
  [feat1]="--set teacher.feature_weight=1"
  [feat0]="--set teacher.feature_weight=0"
  [edge0]="--set teacher.edge_weight=0"
  # the training settings: the backbone teacher's (lr 0.01, no dropout) by default; the
  # reference's tokenizer trains with lr 1e-4 and dropout 0.8
  [lr1e-3]="--set teacher.lr=0.001"
  [drop0.5]="--set teacher.dropout=0.5"
  [lr1e-3-drop0.5]="--set teacher.lr=0.001 --set teacher.dropout=0.5"
  # the reference's tokenizer training settings, with room to converge at that lr
  [reference]="--set teacher.lr=0.0001 --set teacher.dropout=0.8 --set teacher.weight_decay=0.001 --set teacher.max_epochs=1000 --set teacher.patience=100"
)
for name in ${VARIANTS:-${!variants[@]}}; do
  file=$out/$dataset-$setting-$name.json
  [ -f "$file" ] && continue
  # shellcheck disable=SC2086
  gkd distill --dataset "$dataset" --protocol cpf --teacher sage --method vqgraph \
    --setting "$setting" --seeds "$seeds" ${variants[$name]} --output "$file" > /dev/null
done
python benchmarks/sweeps/summarize.py "$out/$dataset-$setting-*.json" teacher student
