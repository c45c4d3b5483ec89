"""One condensation experiment per seed: condense, train a graph GNN on the condensed
set (and optionally on the full training set), score both on the real graphs."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch_geometric.seed import seed_everything

from gkd.condense.mirage import ComputationTrees, DistilledSet, Mirage
from gkd.condense.random import random_subset
from gkd.condense.training import EvalBatches, build_graph_model, train_on_graphs
from gkd.data.graphsets import GraphSetTask
from gkd.errors import GkdError
from gkd.experiment import summarize
from gkd.knowledge import parameter_count

CONDENSERS = ("mirage", "random")
CONDENSER_DEFAULTS: dict[str, Any] = {"itemsets": "closed", "exclusive": False,
                                      "max_itemsets": 10_000}


def _train(task: GraphSetTask, model_name: str, hops: int, graphs: Sequence,
           evaluation: EvalBatches, config: dict[str, dict[str, Any]],
           seed: int) -> tuple[dict[str, float], dict[str, Any]]:
    seed_everything(seed)
    model = build_graph_model(model_name, task, hops, config["model"])
    metrics, history = train_on_graphs(model, graphs, evaluation, config["train"], seed)
    return metrics, {"epoch": history.best_epoch, "epochs": history.epochs,
                     "params": parameter_count(model), "seconds": round(history.seconds, 3)}


def _distill_record(distilled: DistilledSet) -> dict[str, Any]:
    return {"seconds": round(distilled.seconds, 3), "bytes": distilled.num_bytes,
            "graphs": len(distilled.graphs), **distilled.info}


def run_condensation(task: GraphSetTask, method: str, model_name: str, hops: int, seed: int,
                     *, supports: Sequence[float], config: dict[str, dict[str, Any]],
                     evaluation: EvalBatches, trees: ComputationTrees | None = None,
                     budget: int | None = None, full: bool = False) -> dict[str, Any]:
    r"""Condenses :obj:`task`, trains :obj:`model_name` on the result and scores it.

    For ``mirage`` with several :obj:`supports`, each is condensed and trained, and the
    one with the best validation metric is kept, the smallest set among equals (its
    distillation time and size are reported); a support whose condensation fails (a
    class without itemsets, more than ``max_itemsets``) is skipped, its error kept in
    the record's ``selection``. ``random`` draws real training graphs up to
    :obj:`budget` bytes.

    Args:
        task (GraphSetTask): the task.
        method (str): ``"mirage"`` or ``"random"``.
        model_name (str): ``"gin"``, ``"gcn"`` or ``"gat"``.
        hops (int): computation-tree depth and number of GNN layers.
        seed (int): the training (and sampling) seed.
        supports (Sequence[float]): Mirage support thresholds to select from.
        config (dict): ``{"model", "train", "condenser"}`` options.
        evaluation (EvalBatches): the task's real validation and test graphs.
        trees (ComputationTrees, optional): precomputed trees of depth :obj:`hops` for
            ``mirage`` (their time still counts); ignored by ``random``.
            (default: ``None``, computed again for every support)
        budget (int, optional): the byte budget of ``random``, which requires it;
            ignored by ``mirage``. (default: ``None``)
        full (bool, optional): also train on all training graphs. (default: ``False``)

    Returns:
        ``{"seed", "condensed", ["full"], "cost", "distill", "details"}``.

    Raises:
        GkdError: an unknown :obj:`method`, ``random`` without a :obj:`budget`, no
            training graph within the budget, or ``mirage`` without a usable support
            (a single support raises its own error).
    """
    if method not in CONDENSERS:
        raise GkdError(f"unknown condenser '{method}'; choose from {', '.join(CONDENSERS)}")
    candidates: list[tuple[dict[str, float], dict[str, Any], DistilledSet, float | None]] = []
    failed: list[dict[str, Any]] = []
    if method == "mirage" and not supports:
        raise GkdError("mirage needs at least one support to select from")
    if method == "mirage":
        for support in supports:
            try:
                distilled = Mirage(hops, support, **config["condenser"]).condense(task, trees)
            except GkdError as error:
                if len(supports) == 1:
                    raise
                failed.append({"support": support, "error": str(error)})
                continue
            metrics, details = _train(task, model_name, hops, distilled.graphs, evaluation,
                                      config, seed)
            candidates.append((metrics, details, distilled, support))
        if not candidates:
            raise GkdError(f"no support in {list(supports)} gives a usable set: "
                           f"{failed[0]['error']}")
    else:
        if budget is None:
            raise GkdError("the random baseline needs a byte budget")
        distilled = random_subset(task, budget, seed)
        metrics, details = _train(task, model_name, hops, distilled.graphs, evaluation,
                                  config, seed)
        candidates.append((metrics, details, distilled, None))
    # on a validation tie the smaller set: the order of the supports must not decide
    metrics, details, distilled, chosen = max(candidates,
                                              key=lambda c: (c[0]["val"], -c[2].num_bytes))
    record: dict[str, Any] = {"seed": seed, "condensed": metrics}
    run_details = {"condensed": details}
    if full:
        record["full"], run_details["full"] = _train(task, model_name, hops,
                                                     task.graphs("train"), evaluation,
                                                     config, seed)
    distill = _distill_record(distilled)
    if chosen is not None:
        distill["support"] = chosen
        if len(supports) > 1:
            distill["selection"] = [{"support": c[3], "val": c[0]["val"],
                                     "bytes": c[2].num_bytes} for c in candidates] + failed
    record.update(cost={"distill_seconds": distill["seconds"],
                        "distilled_bytes": distill["bytes"]},
                  distill=distill, details=run_details)
    return record


def summarize_condensation(runs: list[dict[str, Any]]) -> dict[str, Any]:
    r"""Mean and sample std (ddof = 1) over seeds of the condensed (and full-data)
    metrics, the distillation time and the distilled bytes.

    Args:
        runs (list[dict]): records of :func:`run_condensation`, all with or all without
            ``"full"`` (the first record decides).

    Returns:
        dict: ``{"mean", "std"}`` (``std`` is ``None`` for one seed) per metric under
        ``condensed`` (and ``full``), and for ``distill_seconds`` and ``distilled_bytes``
        at the top level (see :func:`gkd.experiment.summarize`).
    """
    models = ("condensed", "full", "cost") if "full" in runs[0] else ("condensed", "cost")
    summary: dict[str, Any] = dict(summarize(runs, models))
    summary.update(summary.pop("cost"))
    return summary
