#!/usr/bin/env bash
# GLNN on the CPF protocol, SAGE teacher, 10 seeds: the acceptance runs of the foundation.
# Usage: GKD_DATA_ROOT=../shared/datasets bash benchmarks/glnn_cpf.sh
set -euo pipefail
out=benchmarks/results/glnn-cpf
mkdir -p "$out"
exec 2> >(tee -a "$out/log.txt" >&2)
for dataset in cora citeseer a-photo a-computer; do
  /usr/bin/time -f "%e s wall" gkd distill --dataset "$dataset" --protocol cpf --teacher sage \
    --method glnn --setting transductive --seeds 10 --output "$out/$dataset-transductive.json"
done
gkd distill --dataset cora --protocol cpf --teacher sage --method glnn --setting inductive \
  --seeds 10 --output "$out/cora-inductive.json"
