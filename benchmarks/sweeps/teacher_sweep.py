"""Validation sweep of one teacher on one dataset (CPF, transductive): every combination of
the options given, each trained on seeds 0..SEEDS-1 without the cache.

Selects on mean validation accuracy; test is printed for the record only.

    GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/teacher_sweep.py \
        TEACHER DATASET SEEDS OUT.json OPTION=V1,V2 [OPTION=V1,V2 ...]

Values are read as JSON where they parse (numbers, null) and as strings otherwise, e.g.
``teacher_sage_cora.json``: ``sage cora 10 OUT aggr=mean,gcn dropout=0,0.5
weight_decay=5e-4,5e-3``.
"""
import itertools
import json
import statistics
import sys

from gkd.data import load_dataset, make_node_task
from gkd.data.tasks import dataset_for_protocol
from gkd.io import write_json
from gkd.knowledge import teacher_knowledge
from gkd.teachers import teacher_config


def _value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


teacher, dataset, seeds, out, *options = sys.argv[1:]
grid = {name: [_value(v) for v in values.split(",")]
        for name, values in (option.split("=", 1) for option in options)}
data = load_dataset(dataset_for_protocol(dataset, "cpf"))
tasks = [make_node_task(data, "cpf", seed=seed, info={"dataset": dataset})
         for seed in range(int(seeds))]
rows = []
for values in itertools.product(*grid.values()):
    config = teacher_config(teacher, dataset, dict(zip(grid, values)))
    metrics = [teacher_knowledge(task, teacher, config, use_cache=False).meta["metrics"]
               for task in tasks]
    row = {**dict(zip(grid, values)), "val": statistics.fmean(m["val"] for m in metrics),
           "test": statistics.fmean(m["test"] for m in metrics)}
    rows.append(row)
    print(json.dumps(row), flush=True)
print("selected on validation:", json.dumps(max(rows, key=lambda r: r["val"])))
write_json(out, rows)
