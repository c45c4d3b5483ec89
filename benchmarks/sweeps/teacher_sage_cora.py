"""Validation sweep of the SAGE teacher on Cora (CPF, transductive, seeds 0-9).

Selects on mean validation accuracy; test is printed for the record only.
Run: GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/teacher_sage_cora.py
"""
import itertools
import json
import statistics
import sys

from gkd.data import load_dataset, make_node_task
from gkd.knowledge import teacher_knowledge
from gkd.teachers import teacher_config

data = load_dataset("cora-npz")
grid = {"aggr": ["mean", "gcn"], "dropout": [0.0, 0.5], "weight_decay": [5e-4, 5e-3]}
rows = []
for values in itertools.product(*grid.values()):
    config = teacher_config("sage", "cora", dict(zip(grid, values)))
    val, test = [], []
    for seed in range(10):
        task = make_node_task(data, "cpf", seed=seed, info={"dataset": "cora"})
        metrics = teacher_knowledge(task, "sage", config, use_cache=False).meta["metrics"]
        val.append(metrics["val"])
        test.append(metrics["test"])
    row = {**dict(zip(grid, values)), "val": statistics.fmean(val), "test": statistics.fmean(test)}
    rows.append(row)
    print(json.dumps(row), flush=True)
best = max(rows, key=lambda r: r["val"])
print("selected on validation:", json.dumps(best))
json.dump(rows, sys.stdout if len(sys.argv) < 2 else open(sys.argv[1], "w"), indent=1)
