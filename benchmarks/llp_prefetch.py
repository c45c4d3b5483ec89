"""Trains the link teachers and plain MLPs of some seeds into the cache ahead of
``gkd linkpred``, so that a second core can work on other seeds of the same command.

Pass the same dataset, teacher, split and ``--set`` options as the ``gkd linkpred``
command; the cache keys then agree and the command finds these models cached (a model
already cached is skipped, and a model one process is training makes the other wait for
it). The method only matters through the MLP's training options, which are the same for
every method, and the device (``--device``, default cpu) does not enter the keys.

    GKD_DATA_ROOT=../shared/datasets python benchmarks/llp_prefetch.py \
        --dataset a-photo --seeds 4 3 2 [--set teacher.patience=50 ...]
"""
from __future__ import annotations

import argparse
import sys

from gkd.cli import _device, _parse_sets
from gkd.data.datasets import load_dataset
from gkd.data.links import make_link_task
from gkd.distill.llp import get_link_distiller
from gkd.errors import GkdError
from gkd.link_teachers import link_teacher_knowledge
from gkd.linkpred import link_config, plain_link_mlp

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--dataset", required=True)
parser.add_argument("--teacher", default="sage")
parser.add_argument("--seeds", type=int, nargs="+", required=True)
parser.add_argument("--split-seed", type=int, default=0)
parser.add_argument("--set", action="append", default=[])
parser.add_argument("--device", type=_device, default="cpu")
args = parser.parse_args()

try:
    config = link_config(args.dataset, args.teacher, "llp", _parse_sets(args.set))
    task = make_link_task(load_dataset(args.dataset), "transductive", seed=args.split_seed,
                          info={"dataset": args.dataset}).to(args.device)
    distiller = get_link_distiller("llp")(**config["distiller"])
    for seed in args.seeds:
        teacher = link_teacher_knowledge(task, args.teacher, config["teacher"], seed=seed)
        metrics, details = plain_link_mlp(task, distiller, config["student"], seed=seed)
        print(f"seed {seed}: teacher {teacher.meta['metrics']} (cached {teacher.meta['cached']}), "
              f"mlp {metrics} (cached {details['cached']})", file=sys.stderr, flush=True)
except GkdError as error:
    sys.exit(f"llp_prefetch: {error}")
