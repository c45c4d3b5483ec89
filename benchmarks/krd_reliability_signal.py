"""How well KRD's reliability signals flag the teacher's mistakes.

For every CPF seed, trains (or loads from the cache) the SAGE teacher and scores each
signal by its AUROC for separating the validation nodes the teacher gets wrong from those it
gets right (0.5: no better than chance; validation labels only). Signals: the entropy change
under Gaussian feature noise of each std (:func:`gkd.reliability.knowledge_reliability`, the
paper's) and the teacher's prediction entropy (:func:`gkd.reliability.entropy_reliability`).

    GKD_DATA_ROOT=../shared/datasets python benchmarks/krd_reliability_signal.py \
        --dataset cora --seeds 3 [--noise-std 1.0 0.1] [--output OUT.json]
"""
from __future__ import annotations

import argparse
import statistics
import sys

from torch import Tensor

from gkd.data import load_dataset, make_node_task
from gkd.data.tasks import dataset_for_protocol
from gkd.distill import KRD
from gkd.errors import GkdError
from gkd.experiment import environment
from gkd.io import write_json
from gkd.knowledge import teacher_knowledge
from gkd.reliability import entropy_reliability
from gkd.teachers import teacher_config


def auroc(score: Tensor, positive: Tensor) -> float:
    """P(score of a positive > score of a negative), ties counting one half."""
    pos, neg = score[positive].unsqueeze(1), score[~positive].unsqueeze(0)
    if pos.numel() == 0 or neg.numel() == 0:
        return float("nan")
    return ((pos > neg).double() + 0.5 * (pos == neg).double()).mean().item()


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", required=True)
parser.add_argument("--seeds", type=int, default=3)
parser.add_argument("--noise-std", type=float, nargs="+", default=[1.0, 0.1])
parser.add_argument("--output")
args = parser.parse_args()

signals = {f"noise {std}": KRD(noise_std=std).reliability for std in args.noise_std}
signals["entropy"] = lambda _, knowledge: entropy_reliability(knowledge.logits)
per_seed = []
try:
    data = load_dataset(dataset_for_protocol(args.dataset, "cpf"))
    for seed in range(args.seeds):
        task = make_node_task(data, "cpf", seed=seed, info={"dataset": args.dataset})
        knowledge = teacher_knowledge(task, "sage", teacher_config("sage", args.dataset))
        wrong = (knowledge.logits.argmax(-1) != task.graph.y)[task.val_idx]
        row = {"seed": seed, "teacher_val_errors": int(wrong.sum())}
        for name, reliability in signals.items():
            row[name] = round(auroc(reliability(task, knowledge)[task.val_idx], wrong), 3)
        per_seed.append(row)
        print(row, flush=True)
except GkdError as error:
    sys.exit(f"krd_reliability_signal: {error}")
if not per_seed:
    sys.exit("krd_reliability_signal: --seeds must be at least 1")
mean = {name: round(statistics.fmean(r[name] for r in per_seed), 3) for name in signals}
print(f"{args.dataset}: mean AUROC over {args.seeds} seeds {mean}")
if args.output:
    write_json(args.output, {"dataset": args.dataset, "seeds": args.seeds, "mean_auroc": mean,
                             "per_seed": per_seed, "env": environment(),
                             "command": "python benchmarks/krd_reliability_signal.py "
                             f"--dataset {args.dataset} --seeds {args.seeds} --noise-std "
                             + " ".join(map(str, args.noise_std))})
