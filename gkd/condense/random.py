"""The random baseline: real training graphs, drawn at random up to a byte budget."""
from __future__ import annotations

import time

import numpy as np
import torch

from gkd.condense.mirage import DistilledSet
from gkd.condense.storage import StorageCount
from gkd.data.graphsets import GraphSetTask
from gkd.errors import GkdError


def random_subset(task: GraphSetTask, budget: int, seed: int = 0,
                  max_misses: int = 50) -> DistilledSet:
    r"""Real training graphs drawn at random up to a byte budget (stored size by
    :func:`~gkd.condense.storage.storage_bytes`, counted graph by graph).

    The classes take turns (each class's graphs in a seeded random order), so that every
    class is represented as evenly as the budget allows; a graph that would overflow the
    budget is skipped, and drawing stops after :obj:`max_misses` skips in a row.

    Args:
        task (GraphSetTask): the task.
        budget (int): the byte budget.
        seed (int, optional): the sampling seed. (default: ``0``)
        max_misses (int, optional): consecutive skipped graphs before stopping.
            (default: ``50``)

    Returns:
        DistilledSet: the chosen graphs (each with ``y`` of shape ``[1]``); :attr:`info`
        holds ``budget`` and the graph count ``per_class``.

    Raises:
        GkdError: no training graph fits the budget, or none of some class does.
    """
    start = time.perf_counter()
    rng = np.random.RandomState(seed)
    train = task.index["train"].numpy()
    labels = task.y[train].numpy()
    queues = [rng.permutation(train[labels == c]) for c in range(task.num_classes)]
    depth = max(q.size for q in queues)
    order = [int(q[k]) for k in range(depth) for q in queues if k < q.size]
    chosen: list = []
    count, misses = StorageCount(), 0
    for index in order:
        graph = task.graphs(torch.tensor([index]))[0]
        candidate = count.added(graph)
        if candidate.bytes <= budget:
            chosen.append(graph)
            count, misses = candidate, 0
        else:
            misses += 1
            if misses >= max_misses:
                break
    if not chosen:
        raise GkdError(f"no training graph fits the budget of {budget} bytes")
    counts = np.bincount([int(g.y) for g in chosen], minlength=task.num_classes)
    missing = np.flatnonzero(counts == 0).tolist()
    if missing:  # a training set without some class cannot teach a classifier
        raise GkdError(f"the budget of {budget} bytes holds no training graph of class(es) "
                       f"{', '.join(map(str, missing))}; raise it")
    return DistilledSet(chosen, count.bytes, time.perf_counter() - start,
                        {"budget": budget, "per_class": counts.tolist()})
