r"""Uniform random walks over a CSR graph, all walks advanced together."""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.ops.checks import check_count, check_node_ids
from gkd.ops.csr import CSRGraph


def random_walk(graph: CSRGraph, start: Tensor, walk_length: int,
                generator: torch.Generator | None = None) -> Tensor:
    r"""Walks :obj:`walk_length` steps from every node in :obj:`start`, each step to a
    uniformly drawn in-neighbour (for an undirected graph: any neighbour; uniform up to
    float64 rounding however large the degree). A walk at a node without neighbours
    stays there.

    Args:
        graph (CSRGraph): the graph.
        start (Tensor): start nodes :math:`(W)`.
        walk_length (int): number of steps.
        generator (torch.Generator, optional): the random source. (default: ``None``)

    Returns:
        The visited nodes :math:`(W, \text{walk\_length} + 1)` as ``torch.long``, the start
        in column 0.

    Raises:
        GkdError: :obj:`start` is not a vector of node ids of :obj:`graph`, or
            :obj:`walk_length` is not a non-negative integer.
    """
    check_node_ids(start, graph.num_nodes, "start")
    check_count(walk_length, "walk_length")
    start = start.long()  # the graph's ids are long: one dtype whatever the graph
    if graph.num_edges == 0:  # nowhere to step: every walk stays at its start
        return start.unsqueeze(1).repeat(1, walk_length + 1)
    # float32 draws are multiples of 2**-24: beyond 2**16 neighbours some would be drawn
    # measurably more often than others (and beyond 2**24 some never), so hubs take
    # float64 draws; below, float32 keeps the draws of walks sampled before this
    dtype = torch.float64 if graph.max_degree > 2**16 else torch.float32
    walks = [start]
    current = start
    for _ in range(walk_length):
        begin = graph.rowptr[current]
        degree = graph.rowptr[current + 1] - begin
        offset = (torch.rand(current.numel(), generator=generator, device=start.device,
                             dtype=dtype) * degree).long()
        step = graph.col[(begin + offset).clamp(max=graph.num_edges - 1)]
        current = torch.where(degree > 0, step, current)
        walks.append(current)
    return torch.stack(walks, dim=1)
