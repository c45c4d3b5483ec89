"""Validation sweep of the GLNN student on Cora (CPF, transductive, SAGE teacher, seeds 0-9).

Reuses the cached teachers; selects on mean validation accuracy; test is printed for the
record only. Run: GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/student_glnn_cora.py OUT
"""
import itertools
import json
import statistics
import sys

from torch_geometric.seed import seed_everything

from gkd.data import load_dataset, make_node_task
from gkd.distill import GLNN
from gkd.evaluation import evaluate
from gkd.knowledge import teacher_knowledge
from gkd.nn import MLP
from gkd.teachers import teacher_config

data = load_dataset("cora-npz")
defaults = GLNN.defaults("cora")
grid = [{"lamb": lamb, "temperature": tau, "schedule": "combined"}
        for lamb, tau in itertools.product([0.0, 0.5], [1.0, 2.0])]
grid.append({"lamb": 0.0, "temperature": 1.0, "schedule": "two-pass"})
tasks = [make_node_task(data, "cpf", seed=seed, info={"dataset": "cora"}) for seed in range(10)]
knowledge = [teacher_knowledge(task, "sage", teacher_config("sage", "cora")) for task in tasks]
rows = []
for options in grid:
    val, test = [], []
    for task, known in zip(tasks, knowledge):
        seed_everything(task.seed)
        student = MLP(task.num_features, out_channels=task.num_classes, **defaults["student"])
        GLNN(**{**defaults["distiller"], **options}).fit(student, task, known)
        scores = evaluate(task, lambda g: student(g.x))
        val.append(scores["val"])
        test.append(scores["test"])
    rows.append({**options, "val": statistics.fmean(val), "test": statistics.fmean(test)})
    print(json.dumps(rows[-1]), flush=True)
print("selected on validation:", json.dumps(max(rows, key=lambda r: r["val"])))
with open(sys.argv[1], "w") as f:
    json.dump(rows, f, indent=1)
