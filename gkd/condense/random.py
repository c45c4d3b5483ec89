"""The random baseline: real training graphs, drawn at random up to a byte budget."""
from __future__ import annotations

import time

import numpy as np
import torch

from gkd.condense.mirage import DistilledSet
from gkd.condense.storage import storage_bytes
from gkd.data.graphsets import GraphSetTask
from gkd.errors import GkdError


def random_subset(task: GraphSetTask, budget: int, seed: int = 0) -> DistilledSet:
    r"""The most real training graphs whose stored size
    (:func:`~gkd.condense.storage.storage_bytes`) fits :obj:`budget`, drawn class by
    class in turn (each class's graphs in a seeded random order), so that every class
    is represented as evenly as the budget allows.

    Args:
        task (GraphSetTask): the task.
        budget (int): the byte budget.
        seed (int, optional): the sampling seed. (default: ``0``)
    """
    start = time.perf_counter()
    rng = np.random.RandomState(seed)
    train = task.index["train"].numpy()
    labels = task.y[train].numpy()
    queues = [rng.permutation(train[labels == c]) for c in range(task.num_classes)]
    depth = max(q.size for q in queues)
    # round-robin over classes: graph k of every class, then graph k + 1, ...
    order = np.array([q[k] for k in range(depth) for q in queues if k < q.size])
    order = torch.from_numpy(order).long()

    def fits(count: int) -> bool:
        return storage_bytes(task.graphs(order[:count])) <= budget

    # the longest prefix that fits (sizes grow with the prefix): double, then bisect
    high = 1
    while high < order.numel() and fits(high):
        high = min(2 * high, order.numel())
    low = high if fits(high) else high // 2
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    if low == 0:
        raise GkdError(f"no training graph fits the budget of {budget} bytes")
    chosen = task.graphs(order[:low])
    counts = np.bincount([int(g.y) for g in chosen], minlength=task.num_classes)
    return DistilledSet(chosen, storage_bytes(chosen), time.perf_counter() - start,
                        {"budget": budget, "per_class": counts.tolist()})

