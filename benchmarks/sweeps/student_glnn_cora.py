"""Validation sweeps of the GLNN student on Cora (CPF, SAGE teacher, seeds 0-9).

Reuses the cached teachers; selects on mean validation accuracy; test metrics are printed for
the record only. Run:
GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/student_glnn_cora.py OUT [SETTING GRID]
with SETTING transductive (default) or inductive, GRID loss (default) or regularisation.
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

out = sys.argv[1]
setting = sys.argv[2] if len(sys.argv) > 2 else "transductive"
grid_name = sys.argv[3] if len(sys.argv) > 3 else "loss"
GRIDS = {
    "loss": [{"distiller": {"lamb": lamb, "temperature": tau, "schedule": "combined"}}
             for lamb, tau in itertools.product([0.0, 0.5], [1.0, 2.0])]
    + [{"distiller": {"lamb": 0.0, "temperature": 1.0, "schedule": "two-pass"}}],
    "regularisation": [{"student": {"dropout": dropout}, "distiller": {"weight_decay": wd}}
                       for dropout, wd in itertools.product([0.3, 0.6, 0.8], [5e-4, 5e-3])],
}
data = load_dataset("cora-npz")
defaults = GLNN.defaults("cora")
tasks = [make_node_task(data, "cpf", setting=setting, seed=seed, info={"dataset": "cora"})
         for seed in range(10)]
knowledge = [teacher_knowledge(task, "sage", teacher_config("sage", "cora")) for task in tasks]
rows = []
for options in GRIDS[grid_name]:
    scores: dict[str, list[float]] = {}
    for task, known in zip(tasks, knowledge):
        seed_everything(task.seed)
        student = MLP(task.num_features, out_channels=task.num_classes,
                      **{**defaults["student"], **options.get("student", {})})
        GLNN(**{**defaults["distiller"], **options.get("distiller", {})}).fit(student, task, known)
        for metric, value in evaluate(task, lambda g: student(g.x)).items():
            scores.setdefault(metric, []).append(value)
    rows.append({**options, **{k: statistics.fmean(v) for k, v in scores.items()}})
    print(json.dumps(rows[-1]), flush=True)
print("selected on validation:", json.dumps(max(rows, key=lambda r: r["val"])))
with open(out, "w") as f:
    json.dump(rows, f, indent=1)
