"""How much a link teacher knows that the plain MLP does not: Hits@K of each seed's teacher,
plain MLP and their ensemble (the mean of the two link probabilities).

The ensemble is no student: it needs the graph at inference. It bounds what combining the
two models' views of the links buys on a dataset; a student that learns from the teacher
and the labels rarely ends up far above it. Teachers and plain MLPs come from the same
cache as ``gkd linkpred`` (pass the same dataset, teacher and ``--set`` options), and are
trained there when missing.

    GKD_DATA_ROOT=../shared/datasets python benchmarks/llp_ensemble.py --dataset citeseer \
        --seeds 5 [--set teacher.patience=50 ...] [--output ensemble.json]
"""
from __future__ import annotations

import argparse
import shlex
import sys

from torch import Tensor
from torch_geometric.data import Data

from gkd.cli import _parse_sets
from gkd.data.datasets import load_dataset
from gkd.data.links import make_link_task
from gkd.distill.llp import get_link_distiller
from gkd.errors import GkdError
from gkd.experiment import environment, format_summary, summarize
from gkd.io import write_json
from gkd.link_evaluation import evaluate_links
from gkd.link_teachers import link_teacher_knowledge
from gkd.linkpred import link_config, plain_link_model
from gkd.ops import adjacency

MODELS = ("teacher", "mlp", "ensemble")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", required=True)
parser.add_argument("--teacher", default="sage")
parser.add_argument("--seeds", type=int, default=5)
parser.add_argument("--split-seed", type=int, default=0)
parser.add_argument("--set", action="append", default=[])
parser.add_argument("--output")
args = parser.parse_args()

try:
    config = link_config(args.dataset, args.teacher, "llp", _parse_sets(args.set))
    task = make_link_task(load_dataset(args.dataset), "transductive", seed=args.split_seed,
                          info={"dataset": args.dataset})
    distiller = get_link_distiller("llp")(**config["distiller"])
    k = distiller.hits_k
    runs = []
    for seed in range(args.seeds):
        teacher = link_teacher_knowledge(task, args.teacher, config["teacher"], seed=seed).model
        mlp, _ = plain_link_model(task, distiller, config["student"], seed=seed)

        def teacher_embed(graph: Data) -> Tensor:
            return teacher.encode(graph.x, adjacency(graph.edge_index, graph.num_nodes))

        def both_embed(graph: Data) -> tuple[Tensor, Tensor]:
            return teacher_embed(graph), mlp.encode(graph.x)

        def mean_probability(h: tuple[Tensor, Tensor], pairs: Tensor) -> Tensor:
            return (teacher.score(h[0], pairs).sigmoid() + mlp.score(h[1], pairs).sigmoid()) / 2

        run = {"seed": seed,
               "teacher": evaluate_links(task, teacher_embed, teacher.score, k),
               "mlp": evaluate_links(task, lambda g: mlp.encode(g.x), mlp.score, k),
               "ensemble": evaluate_links(task, both_embed, mean_probability, k)}
        runs.append(run)
        print(f"seed {seed}: " + "  ".join(f"{m} {run[m]['test']:.2f}" for m in MODELS),
              file=sys.stderr, flush=True)
except GkdError as error:
    sys.exit(f"llp_ensemble: {error}")

summary = summarize(runs, MODELS)
print(f"{args.dataset}: Hits@{k} in %, mean ± sample std over seeds 0-{args.seeds - 1}")
print(format_summary(summary))
if args.output:
    write_json(args.output, {"task": {"dataset": args.dataset, "teacher": args.teacher,
                                      **task.info, "split_seed": args.split_seed,
                                      "metric": f"hits@{k}"},
                             "config": config, "runs": runs, "summary": summary,
                             "env": environment(),
                             "command": shlex.join(["python", *sys.argv])})
