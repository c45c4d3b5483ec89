"""Cost of KRD's reliability measurement and of one resampling step.

On the CPF task of seed 0 with its cached SAGE teacher and a GLNN-sized student, times
:meth:`gkd.distill.KRD.reliability` (once per run: the teacher's entropy under every noise
draw) and :meth:`gkd.distill.KRD.resample` (every ``resample_every`` epochs: the student's
agreement, the alpha fit, the Bernoulli draw over all edges and the pairs' CSR graph).

    GKD_DATA_ROOT=../shared/datasets python benchmarks/krd_resampling.py \
        [--dataset a-computer] [--threads 2] [--output benchmarks/results/krd/resampling.json]
"""
from __future__ import annotations

import argparse

import torch

from gkd.bench.timing import TimingBudget, time_calls
from gkd.data import load_dataset, make_node_task
from gkd.distill import KRD
from gkd.experiment import environment, hardware_line
from gkd.io import write_json
from gkd.knowledge import teacher_knowledge
from gkd.nn import MLP
from gkd.ops import CSRGraph
from gkd.teachers import teacher_config

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", default="a-computer")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--output")
args = parser.parse_args()
torch.set_num_threads(args.threads)

task = make_node_task(load_dataset(args.dataset), "cpf", seed=0, info={"dataset": args.dataset})
knowledge = teacher_knowledge(task, "sage", teacher_config("sage", args.dataset))
defaults = KRD.defaults(args.dataset)
krd = KRD(**defaults["distiller"])
student = MLP(task.num_features, out_channels=task.num_classes, **defaults["student"]).train()
graph = CSRGraph.from_edge_index(task.graph.edge_index, task.graph.num_nodes)
rho = krd.reliability(task, knowledge)
teacher_class = knowledge.logits.argmax(-1)
generator = torch.Generator().manual_seed(0)
budget = TimingBudget(warmup=2, min_repeats=10, min_seconds=0.0, max_seconds=60.0)
timings = {
    "reliability": time_calls(lambda _: krd.reliability(task, knowledge), torch.device("cpu"),
                              budget),
    "resample": time_calls(lambda _: krd.resample(student, task.graph.x, teacher_class, rho,
                                                  graph, 1.0, generator),
                           torch.device("cpu"), budget),
}
env = environment()
result = {"dataset": args.dataset, "nodes": graph.num_nodes, "edges": graph.num_edges,
          "noise_draws": krd.noise_draws, "timings_ms": timings, "env": env,
          "command": "python benchmarks/krd_resampling.py " + " ".join(
              f"--{k} {v}" for k, v in vars(args).items() if v is not None)}
print(f"{args.dataset}: {graph.num_nodes} nodes, {graph.num_edges} edges · {hardware_line(env)}")
for name, t in timings.items():
    print(f"  {name:12s} median {t['median']:8.1f} ms  IQR {t['iqr']:6.1f} ms  "
          f"({t['repeats']} repeats)")
if args.output:
    write_json(args.output, result)
