"""Scoring link predictors: Hits@K and MRR with the OGB link evaluator's semantics, and the
Hits@K and ROC-AUC logged beside the headline metric."""
from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import Tensor
from torch_geometric.data import Data

from gkd.data.links import LinkPairs, LinkTask
from gkd.errors import InputError
from gkd.ops.checks import check_count

LOGGED_HITS = (10, 50, 100)  # logged beside the headline K, as the link protocol asks


def _check_finite(pos: Tensor, neg: Tensor) -> None:
    if not (bool(torch.isfinite(pos).all()) and bool(torch.isfinite(neg).all())):
        raise InputError("link scores contain NaN or infinite values")


def hits_at_k(pos: Tensor, neg: Tensor, k: int = 20) -> float:
    r"""The share of positive scores strictly above the :obj:`k`-th highest negative
    score, as the OGB link evaluator (``ogbl-collab``/``ddi``/``ppa``) computes it; 1.0
    (with a warning) when there are fewer than :obj:`k` negatives.

    Args:
        pos (Tensor): scores of the positive pairs :math:`(P)` (or a numpy array).
        neg (Tensor): scores of the negative pairs :math:`(Q)` (or a numpy array).
        k (int, optional): :math:`K`. (default: ``20``)

    Raises:
        InputError: no positive pair, :obj:`k` < 1, or a score that is not finite.
    """
    pos, neg = torch.as_tensor(pos), torch.as_tensor(neg)  # numpy scores, as OGB takes
    if pos.numel() == 0:
        raise InputError("Hits@K needs at least one positive pair")
    check_count(k, "Hits@K's K", minimum=1)
    _check_finite(pos, neg)
    if neg.numel() < k:
        warnings.warn(f"Hits@{k} with only {neg.numel()} negatives is 1 by definition",
                      stacklevel=2)
        return 1.0
    threshold = torch.topk(neg.reshape(-1), k).values[-1]
    return int((pos > threshold).sum()) / pos.numel()  # in double, as OGB divides


def mrr(pos: Tensor, neg: Tensor) -> float:
    r"""Mean reciprocal rank of each positive among its own negatives, as the OGB
    evaluator of ``ogbl-citation2`` computes it (ties count against the positive by
    half: the optimistic and pessimistic ranks are averaged).

    Args:
        pos (Tensor): scores of the positive pairs :math:`(P)`.
        neg (Tensor): scores of the negatives of each positive :math:`(P, M)`.

    Raises:
        InputError: no positive pair, :obj:`neg` not :math:`(P, M)` with :math:`M \ge 1`,
            or a score that is not finite.
    """
    pos, neg = torch.as_tensor(pos), torch.as_tensor(neg)
    if pos.numel() == 0 or neg.dim() != 2 or neg.size(0) != pos.numel() or neg.size(1) == 0:
        raise InputError(f"MRR takes P >= 1 positive scores and their M >= 1 negatives "
                         f"(P, M); got "
                         f"{pos.numel()} positives and negatives of shape {tuple(neg.shape)}")
    _check_finite(pos, neg)
    pos = pos.reshape(-1, 1)
    optimistic = (neg > pos).sum(dim=1)
    pessimistic = (neg >= pos).sum(dim=1)
    rank = 0.5 * (optimistic + pessimistic).float() + 1
    return float((1.0 / rank).mean())


def _scored_sets(task: LinkTask, embed: Callable[[Data], Tensor],
                 score: Callable[[Tensor, Tensor], Tensor]) -> dict[str, tuple[Tensor, Tensor]]:
    r"""The scores of the positive and negative pairs of the validation set (observed
    graph) and of every non-empty test set (inference graph), each graph embedded once."""
    sets: dict[str, tuple[Data, LinkPairs]] = {"val": (task.graph, task.val)}
    sets.update({name: (task.full_graph, pairs) for name, pairs in task.tests.items()
                 if pairs.pos.numel()})
    embeddings: dict[int, Tensor] = {}
    scores = {}
    with torch.inference_mode():
        for name, (graph, pairs) in sets.items():
            if id(graph) not in embeddings:
                embeddings[id(graph)] = embed(graph)
            h = embeddings[id(graph)]
            scores[name] = (score(h, pairs.pos), score(h, pairs.neg))
    return scores


def evaluate_links(task: LinkTask, embed: Callable[[Data], Tensor],
                   score: Callable[[Tensor, Tensor], Tensor], k: int = 20) -> dict[str, float]:
    r"""Hits@K in percent on the validation pairs (observed graph) and on every test set
    of :obj:`task` (inference graph).

    Args:
        task (LinkTask): the task.
        embed (callable): ``embed(graph) -> node embeddings``, called once per distinct
            graph, in inference mode.
        score (callable): ``score(h, pairs) -> logits`` of node pairs :math:`(2, P)`.
        k (int, optional): :math:`K`. (default: ``20``)

    Returns:
        ``{"val", "test"}``, plus ``"test_old_old"``, ``"test_old_new"`` and
        ``"test_new_new"`` in the production setting (a group without edges is left
        out).
    """
    return {name: 100.0 * hits_at_k(pos, neg, k)
            for name, (pos, neg) in _scored_sets(task, embed, score).items()}


def logged_link_metrics(task: LinkTask, embed: Callable[[Data], Tensor],
                        score: Callable[[Tensor, Tensor], Tensor]) -> dict[str, dict[str, float]]:
    r"""The metrics logged beside the headline Hits@K, in percent, on the sets of
    :func:`evaluate_links`: Hits@K for each K of :data:`LOGGED_HITS` that the set has
    enough negatives for, and the ROC-AUC of positives against negatives
    (:func:`sklearn.metrics.roc_auc_score`).

    Args:
        task (LinkTask): the task.
        embed (callable): as in :func:`evaluate_links`.
        score (callable): as in :func:`evaluate_links`.

    Returns:
        ``{set name: {"hits@10", "hits@50", "hits@100", "auc"}}``.
    """
    from sklearn.metrics import roc_auc_score

    logged = {}
    for name, (pos, neg) in _scored_sets(task, embed, score).items():
        row = {f"hits@{k}": 100.0 * hits_at_k(pos, neg, k)
               for k in LOGGED_HITS if neg.numel() >= k}
        labels = torch.cat([torch.ones(pos.numel()), torch.zeros(neg.numel())])
        scores = torch.cat([pos.view(-1), neg.view(-1)]).float().cpu()
        row["auc"] = 100.0 * float(roc_auc_score(labels.numpy(), scores.numpy()))
        logged[name] = row
    return logged
