"""Cora (CPF, transductive, seeds 0-9): SAGE teacher configurations judged by the validation
accuracy of the GLNN student distilled from them (the quantity the pipeline exists for).

Test accuracies are printed for the record only. Run:
GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/teacher_for_student_cora.py OUT
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
tasks = [make_node_task(data, "cpf", seed=seed, info={"dataset": "cora"}) for seed in range(10)]
rows = []
for dropout, weight_decay in itertools.product([0.0, 0.5], [5e-4, 5e-3]):
    options = {"aggr": "gcn", "dropout": dropout, "weight_decay": weight_decay}
    scores = {"teacher_val": [], "teacher_test": [], "student_val": [], "student_test": []}
    for task in tasks:
        known = teacher_knowledge(task, "sage", teacher_config("sage", None, options))
        seed_everything(task.seed)
        student = MLP(task.num_features, out_channels=task.num_classes, **defaults["student"])
        GLNN(**defaults["distiller"]).fit(student, task, known)
        result = evaluate(task, lambda g: student(g.x))
        for model, metrics in (("teacher", known.meta["metrics"]), ("student", result)):
            scores[f"{model}_val"].append(metrics["val"])
            scores[f"{model}_test"].append(metrics["test"])
    rows.append({**options, **{k: statistics.fmean(v) for k, v in scores.items()}})
    print(json.dumps(rows[-1]), flush=True)
print("selected on student validation:", json.dumps(max(rows, key=lambda r: r["student_val"])))
with open(sys.argv[1], "w") as f:
    json.dump(rows, f, indent=1)
