"""Validation sweeps of the KRD student (SAGE teacher, cached teachers, seeds 0..N-1).

Selects on mean validation accuracy; each variant's GLNN student on the same seeds is the
reference. Test metrics are written for the record only. Run:

    GKD_DATA_ROOT=../shared/datasets python benchmarks/sweeps/student_krd.py \
        OUT.jsonl DATASET SETTING PROTOCOL SEEDS GRID

GRID names a list in GRIDS below; every line of OUT is one variant with its mean metrics.
"""
import json
import statistics
import sys
import time

import torch
from torch import Tensor
from torch_geometric.seed import seed_everything

from gkd.data import load_dataset, make_node_task
from gkd.data.tasks import NodeTask, dataset_for_protocol
from gkd.distill import GLNN, KRD
from gkd.evaluation import evaluate
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.nn import MLP
from gkd.reliability import entropy_reliability
from gkd.teachers import teacher_config


class EntropyKRD(KRD):
    """KRD whose rho is the teacher's prediction entropy instead of its change under noise."""

    def reliability(self, task: NodeTask, knowledge: Knowledge,
                    generator: torch.Generator | None = None) -> Tensor:
        return entropy_reliability(knowledge.logits, scale=self.reliability_scale)


def krd(weighting: str, scale: str = "max", self_weight: float | None = None,
        warmup: int = 50, max_epochs: int = 200, signal: str = "noise",
        noise_std: float = 1.0) -> dict:
    """A KRD variant with every swept option explicit, whatever the dataset defaults."""
    return {"distiller": {"pair_weighting": weighting, "reliability_scale": scale,
                          "self_weight": self_weight, "warmup": warmup,
                          "max_epochs": max_epochs, "reliability_signal": signal,
                          "noise_std": noise_std}}


GRIDS = {
    "glnn": [{"method": "glnn"}],
    "weighting": [krd("pair"), krd("node")],
    "scale": [krd("node", "rank"), krd("node", "rank", warmup=0)],
    "self": [krd("node", "rank", w) for w in (0.5, 0.75)],
    "amazon": [krd("pair")] + [krd("node", "rank", w) for w in (None, 0.5, 0.75)],
    # warm-up counts mini-batch epochs (the reference's 50 are full-batch steps), and 200
    # epochs leave 150 for sampling (the reference trains 500)
    "schedule": [krd("pair", warmup=w, max_epochs=e) for w in (50, 10) for e in (200, 500)]
    + [{"method": "glnn", "distiller": {"max_epochs": 500}}],
    # no reliability sampling at all: a warm-up as long as training (every neighbour's soft
    # label, every epoch) against the default schedule
    "warmup-only": [krd("pair"), krd("pair", warmup=200)],
    # what rho measures, on top of each dataset's defaults: weaker noise, or the teacher's
    # own prediction entropy (reliability_signal "entropy": EntropyKRD)
    "signal": [krd("pair"), krd("pair", noise_std=0.1), krd("pair", signal="entropy")],
    "signal-amazon": [krd("node", "rank", 0.75, noise_std=ns, signal=sig)
                      for sig, ns in (("noise", 1.0), ("noise", 0.1), ("entropy", 1.0))],
    # the distillation temperature and the label-loss weight, on top of each dataset's
    # defaults, for GLNN and KRD alike (the reference tuned both, on test)
    "temperature": [{"method": method, "distiller": {option: value}}
                    for option, value in (("temperature", 0.5), ("temperature", 2.0),
                                          ("lamb", 0.3))
                    for method in ("glnn", "krd")],
    # the student's dropout, on top of each dataset's defaults, for GLNN and KRD alike: the
    # neighbours' targets may regularise KRD's student enough to want less of it, or more
    "dropout": [{"method": method, "student": {"dropout": dropout}}
                for dropout in (0.1, 0.5) for method in ("glnn", "krd")],
}

out, dataset, setting, protocol, seeds, grid = sys.argv[1:7]
data = load_dataset(dataset_for_protocol(dataset, protocol))
tasks = [make_node_task(data, protocol, setting=setting, seed=seed, info={"dataset": dataset})
         for seed in range(int(seeds))]
knowledge = [teacher_knowledge(task, "sage", teacher_config("sage", dataset)) for task in tasks]
for options in GRIDS[grid]:
    method = {"glnn": GLNN, "krd": KRD}[options.get("method", "krd")]
    defaults = method.defaults(dataset)
    distiller = {**defaults["distiller"], **options.get("distiller", {})}
    if distiller.pop("reliability_signal", "noise") == "entropy":
        method = EntropyKRD
    scores: dict[str, list[float]] = {}
    start = time.perf_counter()
    for task, known in zip(tasks, knowledge):
        seed_everything(task.seed)
        student = MLP(task.num_features, out_channels=task.num_classes,
                      **{**defaults["student"], **options.get("student", {})})
        history = method(**distiller).fit(student, task, known)
        scores.setdefault("epoch", []).append(history.best_epoch)
        print(f"  seed {task.seed}: val {history.best_val:.2f} at epoch {history.best_epoch}",
              file=sys.stderr, flush=True)
        for metric, value in evaluate(task, lambda g: student(g.x)).items():
            scores.setdefault(metric, []).append(value)
    row = {"dataset": dataset, "setting": setting, "protocol": protocol, "seeds": int(seeds),
           **options, "seconds": round(time.perf_counter() - start, 1),
           **{k: round(statistics.fmean(v), 3) for k, v in scores.items()},
           "val_per_seed": scores["val"]}
    print(json.dumps({k: v for k, v in row.items()
                      if k != "val_per_seed" and not k.startswith("test")}), flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")
