"""Context nodes of anchor nodes for relational distillation, drawn for all anchors at
once."""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.ops.checks import check_count, check_node_ids
from gkd.ops.csr import CSRGraph
from gkd.ops.random_walk import random_walk


def sample_context(graph: CSRGraph, anchors: Tensor, num_walks: int, walk_length: int,
                   num_random: int, generator: torch.Generator | None = None) -> Tensor:
    r"""Context nodes of every anchor: the nodes visited by :obj:`num_walks` uniform
    random walks of :obj:`walk_length` steps from it (nearby contexts; the start is not
    included, repeats and the anchor itself may occur) followed by :obj:`num_random`
    nodes drawn uniformly from the whole graph (random contexts), as in LLP.

    Args:
        graph (CSRGraph): the graph to walk on.
        anchors (Tensor): anchor nodes :math:`(A)`.
        num_walks (int): walks per anchor.
        walk_length (int): steps per walk.
        num_random (int): random contexts per anchor.
        generator (torch.Generator, optional): the random source. (default: ``None``)

    Returns:
        Context nodes :math:`(A, \text{num\_walks} \cdot \text{walk\_length} +
        \text{num\_random})`.

    Raises:
        GkdError: :obj:`anchors` are not node ids of :obj:`graph`, or a count is not a
            non-negative integer.
    """
    check_node_ids(anchors, graph.num_nodes, "anchors")
    for name, value in (("num_walks", num_walks), ("walk_length", walk_length),
                        ("num_random", num_random)):
        check_count(value, name)
    starts = anchors.repeat_interleave(num_walks)
    walks = random_walk(graph, starts, walk_length, generator)[:, 1:]
    nearby = walks.reshape(anchors.numel(), num_walks * walk_length)
    # a graph without nodes has no anchors either: nothing is drawn (randint needs high > 0)
    far = torch.randint(max(graph.num_nodes, 1), (anchors.numel(), num_random),
                        generator=generator, device=anchors.device)
    return torch.cat([nearby, far], dim=1)
