#!/usr/bin/env bash
# The commands behind every result file in this folder (run from the repository root).
# CPU only, 2 cores shared with other jobs, one intra-op thread.
set -euo pipefail
export GKD_DATA_ROOT=${GKD_DATA_ROOT:-../shared/datasets} OMP_NUM_THREADS=1
out=benchmarks/results/mirage

# ogbg-molhiv, GIN, 3-hop trees / 3 layers, support 0.05 (the default), 10 seeds
gkd condense --dataset ogbg-molhiv --method mirage --model gin --hops 3 --seeds 10 \
    --set train.max_epochs=40 --set train.patience=15 \
    --output $out/ogbg-molhiv-gin-mirage.json
# the random baseline at Mirage's bytes
budget=$(python -c "import json, sys; s = json.load(open(sys.argv[1]))['summary']; \
print(round(s['distilled_bytes']['mean']))" "$out/ogbg-molhiv-gin-mirage.json")
gkd condense --dataset ogbg-molhiv --method random --model gin --hops 3 --seeds 10 \
    --budget "$budget" --set train.max_epochs=40 --set train.patience=15 \
    --output $out/ogbg-molhiv-gin-random.json
# diagnostics/: the same Mirage set after one training epoch (one Adam step)
gkd condense --dataset ogbg-molhiv --method mirage --model gin --hops 3 --seeds 10 \
    --set train.max_epochs=1 --output $out/diagnostics/ogbg-molhiv-gin-mirage-one-step.json

# small datasets: Mirage selects its support per seed on validation from a list, beside the
# full-data run; the random baseline then gets Mirage's mean distilled bytes as its budget
run() {  # dataset hops supports
    gkd condense --dataset "$1" --method mirage --model gin --hops "$2" --seeds 10 \
        --support "$3" --full --output "$out/$1-gin-mirage.json"
    budget=$(python -c "import json, sys; s = json.load(open(sys.argv[1]))['summary']; \
print(round(s['distilled_bytes']['mean']))" "$out/$1-gin-mirage.json")
    gkd condense --dataset "$1" --method random --model gin --hops "$2" --seeds 10 \
        --budget "$budget" --output "$out/$1-gin-random.json"
}
run mutag 3 0.1,0.2,0.3
run ogbg-molbace 3 0.15,0.2,0.25
run proteins 2 0.03,0.05,0.1
run nci1 3 0.05,0.1,0.2

# the Mirage reference's TU slicing (--split mirage) instead of the stratified split
run_split() {  # dataset hops supports
    gkd condense --dataset "$1" --split mirage --method mirage --model gin --hops "$2" \
        --seeds 10 --support "$3" --full --output "$out/$1-gin-mirage-split-mirage.json"
    budget=$(python -c "import json, sys; s = json.load(open(sys.argv[1]))['summary']; \
print(round(s['distilled_bytes']['mean']))" "$out/$1-gin-mirage-split-mirage.json")
    gkd condense --dataset "$1" --split mirage --method random --model gin --hops "$2" \
        --seeds 10 --budget "$budget" --output "$out/$1-gin-random-split-mirage.json"
}
run_split mutag 3 0.1,0.2,0.3
run_split nci1 3 0.05,0.1,0.2
