#!/usr/bin/env bash
# The inference-speed comparison (the README's speed protocol) committed under
# benchmarks/results/speed/: CPF Cora and A-computer with their default teacher and student,
# and the ogbn-products-size synthetic graph with GLNN's products models (3-layer SAGE, width
# 256, against a 3-layer MLP of width 2048), then link prediction on Cora and A-computer (the
# link predictors of gkd linkpred, production split). Run from the repository root on a
# quiet machine.
set -euo pipefail
OUT=benchmarks/results/speed
THREADS=${THREADS:-2}
gkd speed --dataset cora --threads "$THREADS" --output "$OUT/cora.json"
gkd speed --dataset a-computer --threads "$THREADS" --output "$OUT/a-computer.json"
gkd speed --dataset synthetic:products --threads "$THREADS" \
  --set teacher.num_layers=3 --set teacher.hidden_channels=256 \
  --set student.num_layers=3 --set student.hidden_channels=2048 \
  --output "$OUT/synthetic-products.json"
gkd speed --dataset cora --task link --threads "$THREADS" --output "$OUT/cora-links.json"
gkd speed --dataset a-computer --task link --threads "$THREADS" --output "$OUT/a-computer-links.json"
