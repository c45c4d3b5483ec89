"""Validation sweep of one link-teacher option on one dataset: the SAGE teacher of every
seed, transductive split, split seed 0, default options otherwise (``none``: the option
unset). Appends one JSON line per (seed, value) with the teacher's validation and test
Hits@20 to OUT, and its validation Hits@7 (the quantile of the negatives that test Hits@20
thresholds at), Hits@10/50/100 and ROC-AUC (``val_logged``, in percent); teachers are cached
(``GKD_CACHE_DIR``), so `gkd linkpred --set teacher.OPTION=VALUE` reuses them. Choose on the
mean validation Hits@20 over datasets, never on test.

    GKD_DATA_ROOT=../shared/datasets OMP_NUM_THREADS=1 python \\
        benchmarks/sweeps/llp_teacher_sweep.py OUT.jsonl DATASET OPTION none,0.1,0.3 SEEDS
"""
import json
import sys
import time

from gkd.data.links import load_link_task
from gkd.link_evaluation import hits_at_k, logged_link_metrics
from gkd.link_teachers import embed_graph, link_teacher_config, link_teacher_knowledge


def parse_value(text: str) -> int | float | None:
    if text == "none":
        return None
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


out, dataset, option = sys.argv[1], sys.argv[2], sys.argv[3]
values, num_seeds = [parse_value(v) for v in sys.argv[4].split(",")], int(sys.argv[5])
task = load_link_task(dataset)
for seed in range(num_seeds):
    for value in values:
        config = link_teacher_config("sage", dataset, {} if value is None else {option: value})
        start = time.perf_counter()
        knowledge = link_teacher_knowledge(task, "sage", config, seed=seed)
        seconds = round(time.perf_counter() - start, 1)
        pos, neg = knowledge.score(task.val.pos), knowledge.score(task.val.neg)
        logged = logged_link_metrics(task, lambda graph: embed_graph(knowledge.model, graph),
                                     knowledge.model.score)["val"]
        record = {"dataset": dataset, "seed": seed, option: value,
                  **knowledge.meta["metrics"], "epoch": knowledge.meta["epoch"],
                  "val_logged": {"hits@7": 100.0 * hits_at_k(pos, neg, 7), **logged},
                  "cached": knowledge.meta["cached"], "seconds": seconds}
        print(json.dumps(record), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
