"""The ``gkd condense`` sub-command: graph-classification dataset condensation."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from gkd.cli import (
    _add_common,
    _add_device,
    _add_resume,
    _check_writable,
    _finish,
    _parse_sets,
    _positive_int,
    _run_seeds,
    _seed_count,
    _stored_runs,
)
from gkd.errors import GkdError

NAMESPACES = ("model", "train", "condenser")
DEFAULT_SUPPORTS = (0.05,)


def _supports(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected shares like 0.05,0.1; got '{text}'") from None
    if not all(0 < v <= 1 for v in values):
        raise argparse.ArgumentTypeError(f"supports are shares in (0, 1]; got '{text}'")
    return values


def condense_config(overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    r"""The checked ``{"model", "train", "condenser"}`` options of a condensation run."""
    from gkd.condense.experiment import CONDENSER_DEFAULTS
    from gkd.condense.mirage import Mirage
    from gkd.condense.training import graph_model_config, train_config
    from gkd.config import merge_overrides

    config = {"model": graph_model_config(overrides["model"]),
              "train": train_config(overrides["train"]),
              "condenser": merge_overrides(CONDENSER_DEFAULTS, overrides["condenser"],
                                           "condenser")}
    Mirage(**config["condenser"])
    return config


def _condense(args: argparse.Namespace) -> None:
    from gkd.condense.experiment import run_condensation, summarize_condensation
    from gkd.condense.mirage import ComputationTrees, Mirage
    from gkd.condense.training import EvalBatches
    from gkd.data.graphsets import load_graph_task
    from gkd.experiment import environment, format_summary, mean_std

    started = time.perf_counter()
    args.dataset = args.dataset.lower()
    _check_writable(args.output)
    config = condense_config(_parse_sets(args.set, NAMESPACES))
    if args.method == "mirage" and args.budget is not None:
        raise GkdError("--budget sets the size of --method random; Mirage's size follows "
                       "from --support")
    if args.method == "random" and args.budget is not None and args.support is not None:
        raise GkdError("--method random draws up to --budget bytes; --support would only "
                       "set the budget when --budget is not given")
    supports = args.support or DEFAULT_SUPPORTS
    if args.method == "random" and args.budget is None and len(supports) > 1:
        raise GkdError("--method random takes its byte budget from Mirage at one --support "
                       "value, or from --budget")
    task = load_graph_task(args.dataset, args.root, split=args.split)
    evaluation = EvalBatches(task, config["train"]["eval_batch_size"], args.device)
    budget, trees = args.budget, None
    if args.method == "random" and budget is None:
        budget = Mirage(args.hops, supports[0], **config["condenser"]).condense(task).num_bytes
    if args.method == "mirage" and len(supports) > 1:
        trees = ComputationTrees(task, args.hops)  # shared by the candidates of each seed
    described = {"dataset": args.dataset, "method": args.method, "model": args.model,
                 "hops": args.hops, "full": args.full, **task.info}
    if budget is not None:
        described["budget_bytes"] = budget
    print(f"gkd condense: {args.dataset} · {args.method} · {args.model} · {args.hops} hops · "
          f"{args.seeds} seed(s) · {task.sizes()}", file=sys.stderr)

    def run_seed(seed: int) -> dict[str, Any]:
        return run_condensation(task, args.method, args.model, args.hops, seed,
                                supports=supports, config=config, evaluation=evaluation,
                                trees=trees, budget=budget, full=args.full)

    def progress(run: dict[str, Any]) -> str:
        scores = "  ".join(f"{m} {run[m]['test']:.2f}" for m in ("condensed", "full")
                           if m in run)
        return (f"test {task.metric}: {scores}  distilled {run['cost']['distilled_bytes']} B "
                f"in {run['cost']['distill_seconds']:.2f}s")

    support = list(supports) if args.budget is None else None
    models = ("condensed", "full") if args.full else ("condensed",)
    stored, earlier = _stored_runs(args, {"task": described, "config": config,
                                          "support": support}, models)

    def record(runs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"task": described, "config": config, "support": support, "runs": runs,
                "summary": summarize_condensation(runs),
                "complete": len(runs) == args.seeds, "env": environment(args.device),
                **({"resumed": earlier} if earlier else {})}

    runs = _run_seeds(args, run_seed, progress, record, started, stored)
    summary = summarize_condensation(runs)
    metric = "ROC-AUC" if task.metric == "rocauc" else "accuracy"
    print(f"\n{args.dataset} · {args.method} · {args.model} · {args.hops} hops · {args.seeds} "
          f"seed(s) · {metric} % (mean ± sample std over all seeds (ddof=1))")
    print(format_summary({m: summary[m] for m in ("condensed", "full") if m in summary}))
    cost = {k: summary[k] for k in ("distill_seconds", "distilled_bytes")}
    print("  ".join(f"{k} {mean_std(**v)}" for k, v in cost.items()))
    if trees is not None:
        print(f"(trees computed once in {trees.seconds:.2f}s and counted in every seed's "
              f"distill_seconds)", file=sys.stderr)
    _finish(args, record(runs), started, stored)


def add_condense_command(commands: argparse._SubParsersAction) -> None:
    r"""Adds ``gkd condense`` to the ``gkd`` sub-commands."""
    from gkd.condense.experiment import CONDENSERS
    from gkd.data.graphsets import GRAPH_DATASETS, TU_SPLITS
    from gkd.nn.graph_gnn import GRAPH_CONVS

    condense = commands.add_parser(
        "condense", help="condense a graph-classification dataset (Mirage) and train on it",
        description="Condense the training graphs (Mirage: frequent computation-tree sets; "
                    "random: real graphs at Mirage's byte budget), train a graph GNN on the "
                    "condensed set per seed, score it on the real validation and test graphs "
                    "(ROC-AUC for binary tasks, accuracy otherwise); print mean ± std over "
                    "all seeds and optionally write JSON.")
    condense.add_argument("--dataset", required=True,
                          help=f"graph dataset: {', '.join(GRAPH_DATASETS)}")
    condense.add_argument("--method", default="mirage", choices=CONDENSERS,
                          help="the condensation method (default: mirage)")
    condense.add_argument("--model", default="gin", choices=GRAPH_CONVS,
                          help="the graph GNN trained on the condensed set (default: gin)")
    condense.add_argument("--hops", type=_positive_int, default=3,
                          help="computation-tree depth = number of GNN layers (default: 3)")
    condense.add_argument("--seeds", type=_seed_count, default=10,
                          help="run seeds 0..N-1 (default: 10)")
    condense.add_argument("--support", type=_supports, metavar="S[,S,...]",
                          help="Mirage support threshold(s) as a share of each class's "
                               "training graphs; several are selected per seed on "
                               "validation; with --method random, the one whose Mirage "
                               "set sets the byte budget (default: 0.05)")
    condense.add_argument("--budget", type=_positive_int,
                          help="byte budget of --method random (default: the bytes of "
                               "Mirage's set at --support)")
    condense.add_argument("--split", default="stratified", choices=TU_SPLITS,
                          help="TU datasets' split: stratified 80/10/10 with split seed 0, or "
                               "mirage, the Mirage reference's slicing (shuffled with seed 0, "
                               "first tenth test, next tenth validation); OGB datasets keep "
                               "their scaffold split (default: stratified)")
    condense.add_argument("--full", action="store_true",
                          help="also train on the full training set per seed")
    _add_device(condense)
    _add_resume(condense)
    _add_common(condense, "the runs and summary", "override a default, e.g. "
                "model.hidden_channels=64, model.pool=mean, train.lr=0.01, "
                "train.max_epochs=50, condenser.itemsets=all, condenser.exclusive=true")
    condense.set_defaults(run=_condense)
