r"""The stored size of a set of graphs, in bytes, the same way for every condenser.

A graph set is stored as features plus indices: the distinct node (and edge) feature
rows once, each node and edge as an index into them, local edge endpoints, and per graph
its node, edge and root counts and its class. Every array takes the narrowest integer
type that holds its values (features that are not integers take float32).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data


def _int_bytes(max_value: int) -> int:
    for width in (1, 2, 4):
        if max_value < 2 ** (8 * width):
            return width
    return 8


def _table_bytes(rows: Tensor) -> int:
    r"""Bytes of a feature table and of one index into it per row."""
    rows = rows.flatten(1) if rows.dim() > 1 else rows.unsqueeze(1)
    distinct = torch.unique(rows, dim=0)
    if rows.is_floating_point() and not torch.equal(distinct, distinct.round()):
        cell = 4
    else:
        cell = _int_bytes(int(distinct.max() - distinct.min())) if distinct.numel() else 1
    return distinct.numel() * cell + rows.size(0) * _int_bytes(distinct.size(0) - 1)


def storage_bytes(graphs: Sequence[Data]) -> int:
    r"""The bytes that store :obj:`graphs` as features plus indices.

    Args:
        graphs (Sequence[Data]): graphs with ``x``, ``edge_index``, optional
            ``edge_attr``, a class ``y`` and, for distilled graphs, a ``root_mask``
            whose marked nodes come first (so a count stores it). Whether edge features
            and root masks are counted is read from the first graph.

    Returns:
        int: the size in bytes; ``0`` for no graphs.
    """
    if not graphs:
        return 0
    x = torch.cat([g.x for g in graphs])
    edges = torch.cat([g.edge_index for g in graphs], dim=1)
    total = _table_bytes(x)
    max_nodes = max(g.num_nodes for g in graphs)
    total += edges.numel() * _int_bytes(max_nodes - 1)  # local endpoint ids
    if graphs[0].get("edge_attr") is not None:
        total += _table_bytes(torch.cat([g.edge_attr for g in graphs]))
    max_edges = max(g.edge_index.size(1) for g in graphs)
    per_graph = _int_bytes(max_nodes) + _int_bytes(max_edges)
    per_graph += _int_bytes(int(torch.cat([g.y.view(-1) for g in graphs]).max()))
    if graphs[0].get("root_mask") is not None:
        per_graph += _int_bytes(max_nodes)
    return total + len(graphs) * per_graph
