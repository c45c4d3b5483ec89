"""Validation sweep of the link teacher's ``disjoint_ratio`` (the share of training edges
that are each epoch's targets and are left out of its message passing; ``none``: every
training edge is both, the LLP reference) on one dataset: the SAGE teacher of every seed,
transductive split, split seed 0, default options otherwise. Appends one JSON line per
(seed, ratio) with the teacher's validation and test Hits@20 to OUT, and its validation
Hits@7 (the quantile of the negatives that test Hits@20 thresholds at), Hits@10/50/100 and
ROC-AUC (``val_logged``, in percent); teachers are cached
(``GKD_CACHE_DIR``), so `gkd linkpred --set teacher.disjoint_ratio=R` reuses them. Choose
on the mean validation Hits@20 over datasets, never on test.

    GKD_DATA_ROOT=../shared/datasets OMP_NUM_THREADS=1 python \\
        benchmarks/sweeps/llp_teacher_disjoint.py OUT.jsonl DATASET none,0.1,0.3,0.5 SEEDS
"""
import json
import sys
import time

from gkd.data.links import load_link_task
from gkd.link_evaluation import hits_at_k, logged_link_metrics
from gkd.link_teachers import embed_graph, link_teacher_config, link_teacher_knowledge

out, dataset, ratios_arg, num_seeds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ratios = [None if r == "none" else float(r) for r in ratios_arg.split(",")]
task = load_link_task(dataset)
for seed in range(num_seeds):
    for ratio in ratios:
        config = link_teacher_config("sage", dataset, {"disjoint_ratio": ratio})
        start = time.perf_counter()
        knowledge = link_teacher_knowledge(task, "sage", config, seed=seed)
        seconds = round(time.perf_counter() - start, 1)
        pos, neg = knowledge.score(task.val.pos), knowledge.score(task.val.neg)
        logged = logged_link_metrics(task, lambda graph: embed_graph(knowledge.model, graph),
                                     knowledge.model.score)["val"]
        record = {"dataset": dataset, "seed": seed, "disjoint_ratio": ratio,
                  **knowledge.meta["metrics"], "epoch": knowledge.meta["epoch"],
                  "val_logged": {"hits@7": 100.0 * hits_at_k(pos, neg, 7), **logged},
                  "cached": knowledge.meta["cached"], "seconds": seconds}
        print(json.dumps(record), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
