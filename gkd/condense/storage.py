r"""The stored size of a set of graphs, in bytes, the same way for every condenser.

A graph set is stored as features plus indices: the distinct node (and edge) feature
rows once, each node and edge as an index into them, local edge endpoints, and per graph
its node, edge and root counts and its class. An undirected graph (every edge stored in
both directions, with the same features) stores each edge once, as a reader restores the
other direction; a distilled DAG's edges are directed. Every array takes the narrowest
integer type that holds its values (features that are not integers take float32).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected


def _stored_edges(graph: Data) -> tuple[Tensor, Tensor | None]:
    r"""The edges (and edge features) a store keeps: one direction of an undirected
    graph, every edge of any other."""
    edge_index, edge_attr = graph.edge_index, graph.get("edge_attr")
    if edge_index.numel() and is_undirected(edge_index, edge_attr, num_nodes=graph.num_nodes):
        once = edge_index[0] <= edge_index[1]
        return edge_index[:, once], None if edge_attr is None else edge_attr[once]
    return edge_index, edge_attr


def _int_bytes(max_value: int) -> int:
    for width in (1, 2, 4):
        if max_value < 2 ** (8 * width):
            return width
    return 8


@dataclass(frozen=True)
class _Table:
    r"""The distinct rows of a feature table and its row count."""

    distinct: Tensor | None = None
    rows: int = 0

    def added(self, rows: Tensor) -> _Table:
        rows = rows.flatten(1) if rows.dim() > 1 else rows.unsqueeze(1)
        stacked = rows if self.distinct is None else torch.cat([self.distinct, rows])
        return _Table(torch.unique(stacked, dim=0), self.rows + rows.size(0))

    @property
    def bytes(self) -> int:
        r"""Bytes of the distinct rows and of one index into them per row."""
        distinct = self.distinct
        if distinct is None:
            return 0
        if distinct.is_floating_point() and not torch.equal(distinct, distinct.round()):
            cell = 4
        else:
            cell = _int_bytes(int(distinct.max() - distinct.min())) if distinct.numel() else 1
        return distinct.numel() * cell + self.rows * _int_bytes(distinct.size(0) - 1)


@dataclass(frozen=True)
class StorageCount:
    r"""The stored size of a growing set of graphs: :meth:`added` returns the count with
    one more graph, in time proportional to that graph and the distinct feature rows so
    far (recounting the whole set for every graph would be quadratic in its size).
    :attr:`bytes` equals :func:`storage_bytes` of the same graphs.

    Whether edge features and root masks are counted is read from the first graph.
    Start from ``StorageCount()``, the count of no graphs, and grow it with :meth:`added`.

    Attributes:
        graphs (int): the number of graphs counted.
        x (_Table): the distinct node feature rows so far and the number of nodes.
        edge_attr (_Table, optional): the same for edge features; ``None`` when the
            first graph has none.
        edges (int): the number of stored edge endpoints, two per edge.
        max_nodes (int): the largest node count of a graph.
        max_edges (int): the largest edge count of a graph.
        max_class (int): the largest class label.
        roots (bool): whether every graph stores a root count (the first graph has a
            ``root_mask``).
    """

    graphs: int = 0
    x: _Table = _Table()
    edge_attr: _Table | None = None
    edges: int = 0
    max_nodes: int = 0
    max_edges: int = 0
    max_class: int = 0
    roots: bool = False

    def added(self, graph: Data) -> StorageCount:
        r"""This count with :obj:`graph` added.

        Args:
            graph (Data): a graph with ``x``, ``edge_index``, optional ``edge_attr``, a
                class ``y`` and, for distilled graphs, a ``root_mask`` whose marked nodes
                come first (so a count stores it).

        Returns:
            StorageCount: the new count.
        """
        first = self.graphs == 0
        edge_index, edge_features = _stored_edges(graph)
        edge_attr = self.edge_attr
        if first and edge_features is not None:
            edge_attr = _Table()
        if edge_attr is not None and edge_features is not None:
            edge_attr = edge_attr.added(edge_features)
        return StorageCount(
            graphs=self.graphs + 1, x=self.x.added(graph.x), edge_attr=edge_attr,
            edges=self.edges + edge_index.numel(),
            max_nodes=max(self.max_nodes, graph.num_nodes),
            max_edges=max(self.max_edges, edge_index.size(1)),
            max_class=int(graph.y.max()) if first else max(self.max_class, int(graph.y.max())),
            roots=graph.get("root_mask") is not None if first else self.roots)

    @property
    def bytes(self) -> int:
        r"""The size in bytes; ``0`` for no graphs."""
        if self.graphs == 0:
            return 0
        total = self.x.bytes + self.edges * _int_bytes(self.max_nodes - 1)  # local ids
        if self.edge_attr is not None:
            total += self.edge_attr.bytes
        per_graph = (_int_bytes(self.max_nodes) + _int_bytes(self.max_edges)
                     + _int_bytes(self.max_class))
        if self.roots:
            per_graph += _int_bytes(self.max_nodes)
        return total + self.graphs * per_graph


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
    count = StorageCount()
    for graph in graphs:
        count = count.added(graph)
    return count.bytes
