"""Neighbour sampling over a CSR graph, vectorised (no Python loop over nodes)."""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.errors import GkdError, InputError
from gkd.ops.checks import check_count, check_node_ids
from gkd.ops.csr import CSRGraph


class NoNonEdgesError(GkdError, ValueError):
    r"""Non-edges were asked of a graph in which every ordered pair of distinct nodes is
    an edge."""


def sample_neighbors(graph: CSRGraph, nodes: Tensor, fanout: int,
                     generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    r"""Draws up to :obj:`fanout` distinct in-neighbours of every node in :obj:`nodes`,
    uniformly without replacement (all of them when a node has no more); ``fanout < 0``
    keeps every neighbour.

    Each candidate edge gets a random key; sorting by (node, key) and keeping the first
    :obj:`fanout` of each node is a uniform draw without replacement for every node at
    once.

    Args:
        graph (CSRGraph): the graph.
        nodes (Tensor): the target nodes :math:`(M)`; a node given twice is sampled
            twice, independently.
        fanout (int): in-neighbours per node; negative for all of them (``0`` for none).
        generator (torch.Generator, optional): the random source. (default: ``None``,
            the global RNG)

    Returns:
        ``(sources, targets)``: one entry per sampled edge, in global node ids
        (``torch.long``), grouped by target in the order of :obj:`nodes`.

    Raises:
        GkdError: :obj:`nodes` are not node ids of :obj:`graph`, or :obj:`fanout` is not
            an integer.
    """
    check_node_ids(nodes, graph.num_nodes)
    check_count(fanout, "fanout", minimum=None)
    return _draw_neighbors(graph, nodes.long(), fanout, generator)


def _draw_neighbors(graph: CSRGraph, nodes: Tensor, fanout: int,
                    generator: torch.Generator | None) -> tuple[Tensor, Tensor]:
    r""":func:`sample_neighbors` on arguments already checked (the frontiers of
    :func:`sample_subgraph` are node ids by construction)."""
    start, end = graph.rowptr[nodes], graph.rowptr[nodes + 1]
    degree = end - start
    owner = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), degree)
    position = torch.arange(owner.numel(), device=nodes.device) - torch.repeat_interleave(
        torch.cumsum(degree, 0) - degree, degree)
    edge = start[owner] + position
    if fanout >= 0:
        keys = torch.rand(owner.numel(), generator=generator, device=nodes.device)
        order = torch.argsort(owner.double() + keys.double(), stable=True)  # by node, then key
        edge, owner = edge[order], owner[order]
        keep = position < torch.minimum(degree, torch.full_like(degree, fanout))[owner]
        edge, owner = edge[keep], owner[keep]
    return graph.col[edge], nodes[owner]


def _positions(nodes: Tensor, ids: Tensor) -> Tensor:
    r"""The position in :obj:`nodes` (distinct) of every entry of :obj:`ids`, ``-1`` where
    absent, by binary search: the cost grows with the subgraph, not with the graph, so a
    one-node query on a large graph pays for no graph-sized array."""
    ordered, order = nodes.sort()
    at = torch.searchsorted(ordered, ids).clamp(max=nodes.numel() - 1)
    return torch.where(ordered[at] == ids, order[at], -1)


def sample_subgraph(graph: CSRGraph, seeds: Tensor, fanouts: list[int],
                    generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    r"""The multi-hop sampled computation graph of :obj:`seeds` (GraphSAGE-style): hop
    :math:`l` samples ``fanouts[l]`` in-neighbours of the nodes first reached at hop
    :math:`l-1`.

    Args:
        graph (CSRGraph): the graph.
        seeds (Tensor): distinct seed nodes :math:`(S)`.
        fanouts (list[int]): in-neighbours per node at each hop (see
            :func:`sample_neighbors`; ``-1`` keeps all); the number of hops is its length.
        generator (torch.Generator, optional): the random source. (default: ``None``,
            the global RNG)

    Returns:
        ``(nodes, edge_index)``: the global ids of the subgraph's nodes, seeds first in
        their given order, then each hop's new nodes in ascending id order, and its
        sampled edges :math:`(2, E)` (source, target) in local ids.

    Raises:
        GkdError: :obj:`seeds` are not distinct node ids of :obj:`graph`, or a fanout is
            not an integer.
    """
    check_node_ids(seeds, graph.num_nodes, "seeds")
    seeds = seeds.long()  # indices: a narrow or unsigned dtype would not index
    if not isinstance(fanouts, (list, tuple)):
        raise InputError(f"fanouts must be a list of in-neighbours per hop, e.g. [10, 5]; "
                         f"got {fanouts!r}")
    for fanout in fanouts:
        check_count(fanout, "fanout", minimum=None)
    ordered = seeds.sort().values
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.numel():
        raise GkdError(f"sample_subgraph: seed {int(repeated[0])} occurs more than once; "
                       f"seeds must be distinct")
    nodes, frontier = seeds, seeds
    sources, targets = [], []
    for fanout in fanouts:
        src, dst = _draw_neighbors(graph, frontier, fanout, generator)
        sources.append(src)
        targets.append(dst)
        new = torch.unique(src[_positions(nodes, src) < 0])
        nodes, frontier = torch.cat([nodes, new]), new
    if not fanouts:  # no hop: the seeds alone
        return nodes, torch.zeros(2, 0, dtype=torch.long, device=seeds.device)
    edge_index = torch.stack([_positions(nodes, torch.cat(sources)),
                              _positions(nodes, torch.cat(targets))])
    return nodes, edge_index


def k_hop_subgraph(graph: CSRGraph, seeds: Tensor, num_hops: int) -> tuple[Tensor, Tensor]:
    r"""The full :obj:`num_hops`-hop computation graph of :obj:`seeds`: every in-neighbour
    of every node within ``num_hops - 1`` hops, with the edges into those nodes. An
    :obj:`num_hops`-layer message-passing GNN run on it gives the seeds the outputs they
    have on the whole graph (for aggregations normalised by the target's degree).

    Args:
        graph (CSRGraph): the graph.
        seeds (Tensor): distinct seed nodes :math:`(S)`.
        num_hops (int): the number of hops :math:`L`.

    Returns:
        ``(nodes, edge_index)``: global ids of the nodes within :obj:`num_hops` hops,
        seeds first, and the edges in local ids.

    Raises:
        GkdError: :obj:`seeds` are not distinct node ids of :obj:`graph`, or
            :obj:`num_hops` is not a non-negative integer (``0`` gives the seeds alone).
    """
    check_count(num_hops, "num_hops")
    return sample_subgraph(graph, seeds, [-1] * num_hops)


def sample_non_edges(graph: CSRGraph, count: int,
                     generator: torch.Generator | None = None) -> Tensor:
    r"""Draws :obj:`count` ordered node pairs :math:`(u, v)`, :math:`u \neq v`, uniformly
    among those that are not edges of :obj:`graph`, with replacement (negative samples for
    structure reconstruction; nothing of size :math:`N^2` is built).

    Pairs are drawn uniformly and those that hit an edge are redrawn: each round draws
    enough to finish in expectation, and the edges are looked up as sorted
    :math:`u \cdot N + v` keys.

    Args:
        graph (CSRGraph): the graph whose edges are excluded.
        count (int): the number of pairs.
        generator (torch.Generator, optional): the random source. (default: the global
            RNG)

    Returns:
        ``(2, count)`` pairs (source, target).

    Raises:
        InputError: :obj:`count` is not a non-negative integer.
        NoNonEdgesError: :obj:`count` is positive but the graph has no non-edges (a
            :class:`~gkd.errors.GkdError` and a :class:`ValueError`).
    """
    check_count(count, "count")
    n = graph.num_nodes
    keys = torch.sort(graph.col * n + graph.targets()).values.unique_consecutive()
    free = n * (n - 1) - int((keys // n != keys % n).sum())  # self-loops are never drawn
    if count > 0 and free <= 0:
        raise NoNonEdgesError(f"the graph on {n} nodes has no non-edges to sample")
    keys = torch.cat([keys, keys.new_full((1,), n * n)])  # a sentinel above every pair
    device = graph.col.device
    found: list[Tensor] = [torch.empty(2, 0, dtype=torch.long, device=device)]
    missing = count
    while missing > 0:
        draw = int(missing * n * (n - 1) / free * 1.1) + 16
        src = torch.randint(n, (draw,), generator=generator, device=device)
        dst = torch.randint(n - 1, (draw,), generator=generator, device=device)
        dst = dst + (dst >= src).long()  # uniform over v != u
        pair = src * n + dst
        kept = torch.stack([src, dst])[:, keys[torch.searchsorted(keys, pair)] != pair]
        found.append(kept[:, :missing])
        missing -= found[-1].size(1)
    return torch.cat(found, dim=1)
