"""Scoring node classifiers on a task's evaluation sets."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data

from gkd.data.tasks import NodeTask
from gkd.errors import GkdError, InputError

# The test metric a setting is summarised by: all test nodes, or the production mix.
HEADLINE_METRIC = {"transductive": "test", "inductive": "test_prod"}
# What evaluate() scores in each setting.
SETTING_METRICS = {"transductive": ("val", "test"),
                   "inductive": ("val", "test_tran", "test_ind", "test_prod")}


def headline_metric(protocol: str, setting: str) -> str:
    r"""The test metric a run is summarised by: :data:`HEADLINE_METRIC` of the setting,
    except under the ``krd`` protocol, which reports only the held-out nodes
    (``test_ind``) in the inductive setting.

    Args:
        protocol (str): the split protocol.
        setting (str): ``"transductive"`` or ``"inductive"``.

    Returns:
        str: the metric's key in a run's scores.
    """
    if protocol == "krd" and setting == "inductive":
        return "test_ind"
    return HEADLINE_METRIC[setting]


def accuracy(logits: Tensor, y: Tensor) -> float:
    r"""Accuracy in percent of the arg-max of :obj:`logits` :math:`(N, C)` against
    :obj:`y` :math:`(N)` (OGB's :math:`(N, 1)` is accepted too). Equals the OGB node
    evaluator's ``acc`` times 100.

    Args:
        logits (Tensor): scores :math:`(N, C)`; only their arg-max is used.
        y (Tensor): integer class labels :math:`(N)` or :math:`(N, 1)`.

    Returns:
        float: the share of correct predictions, in percent.

    Raises:
        InputError: :obj:`logits` is not :math:`(N, C)` or holds NaN, :obj:`y` is not
            :math:`N` integer labels, or :math:`N = 0`.
    """
    if y.dim() == 2 and y.size(1) == 1:
        y = y.view(-1)
    if logits.dim() != 2 or y.dim() != 1 or y.is_floating_point():
        raise InputError(f"accuracy takes logits (N, C) and integer labels (N); got "
                         f"{tuple(logits.shape)} and {y.dtype} {tuple(y.shape)}")
    if logits.size(0) != y.size(0):
        raise InputError(f"{logits.size(0)} predictions for {y.size(0)} labels")
    if y.numel() == 0:
        raise InputError("accuracy of no predictions is undefined")
    if bool(torch.isnan(logits).any()):
        raise InputError("the logits contain NaN (has the model diverged, or are its inputs "
                         "not finite?); their arg-max would be a meaningless prediction")
    correct = int((logits.argmax(dim=-1) == y).sum())
    return 100.0 * correct / y.numel()


def _checked_logits(out: Tensor, num_nodes: int, num_classes: int) -> Tensor:
    if not isinstance(out, Tensor) or out.shape != (num_nodes, num_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise GkdError(f"predict must return logits (N, C) = ({num_nodes}, {num_classes}) for "
                       f"the graph it is given; got {got}")
    return out


def evaluate(task: NodeTask, predict: Callable[[Data], Tensor]) -> dict[str, float]:
    r"""Scores a model on every evaluation set of :obj:`task`.

    Args:
        task (NodeTask): the task.
        predict (callable): ``predict(graph) -> logits`` for all nodes of ``graph``
            (the observed graph, or the full graph for ``test_ind``); called once per
            distinct graph, in inference mode. The model's mode is left alone: put it
            in eval mode first (the distillers' ``fit`` leaves it there), or its dropout
            stays on.

    Returns:
        ``{"val", "test"}`` in the transductive setting; ``{"val", "test_tran",
        "test_ind", "test_prod"}`` in the inductive one, with ``test_prod`` the
        production mix :math:`(1-r)\cdot\mathrm{tran} + r\cdot\mathrm{ind}` for the
        split rate :math:`r` (0.8/0.2 by default).

    Raises:
        GkdError: :obj:`predict` returns no logits :math:`(N, C)` for the graph's nodes
            and the task's classes, or logits holding NaN.
    """
    outputs: dict[int, Tensor] = {}
    scores: dict[str, float] = {}
    with torch.inference_mode():
        for name, eval_set in task.eval_sets().items():
            key = id(eval_set.graph)
            if key not in outputs:
                outputs[key] = _checked_logits(predict(eval_set.graph), eval_set.graph.num_nodes,
                                               task.num_classes)
            scores[name] = accuracy(outputs[key][eval_set.index], eval_set.graph.y[eval_set.index])
    if task.setting == "inductive":
        r = task.split_rate
        scores["test_prod"] = (1 - r) * scores["test_tran"] + r * scores["test_ind"]
    return scores
