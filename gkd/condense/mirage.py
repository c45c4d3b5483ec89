r"""Mirage (Gupta et al., ICLR 2024): condense a graph-classification dataset into the
sets of computation trees that frequently occur together in the graphs of a class.

1. Every node of every training graph gets the exact code of its L-hop computation
   tree (:func:`gkd.ops.tree_hash.tree_codes`); isolated nodes are skipped.
2. Each training graph becomes a transaction: the set of its tree codes.
3. Per class, all itemsets of trees contained in at least
   :math:`\theta_c = \lceil s \cdot n_c \rceil` of the class's :math:`n_c` graphs are
   mined (:mod:`gkd.condense.mining`), optionally only the closed or maximal ones, and
   optionally only those not also frequent in another class.
4. Each itemset becomes one small training graph with the class as label: its trees
   merged into a DAG (identical subtrees at the same depth stored once; a node's
   children are its tree children, edges point child -> parent), the roots first and
   marked by ``root_mask``. An L-layer GNN computes on this DAG exactly the root
   embeddings it computes on the trees (and so on the real graphs) for sum, mean, GIN
   and GAT aggregation; for GCN, whose normalisation uses sender degrees, only
   approximately, and for GAT on graphs with self-loops only approximately too (PyG's
   ``GATConv`` replaces a real self-loop by its own, while in the DAG that loop is an
   edge from another node).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from gkd.condense.mining import ITEMSET_KINDS, bitsets_from_pairs, frequent_itemsets
from gkd.condense.storage import storage_bytes
from gkd.data.graphsets import GraphSetTask
from gkd.errors import GkdError
from gkd.ops.checks import check_count
from gkd.ops.tree_hash import feature_labels, tree_codes


@dataclass
class DistilledSet:
    r"""A condensed training set.

    Attributes:
        graphs (list[Data]): the training graphs, each with a class ``y`` of shape ``[1]``
            (and for Mirage a ``root_mask`` and the itemset's ``support`` of shape ``[1]``,
            the number of its class's training graphs that hold it; metadata, not counted
            in :attr:`num_bytes` nor used in training).
        num_bytes (int): their stored size (:func:`~gkd.condense.storage.storage_bytes`).
        seconds (float): the wall-clock time to build them.
        info (dict): method-specific figures for the run record (JSON values).
    """

    graphs: list[Data]
    num_bytes: int
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


def support_threshold(min_support: float, count: int) -> int:
    r"""The number of a class's :obj:`count` graphs an itemset must occur in,
    :math:`\max(1, \lceil s \cdot n_c \rceil)`, computed exactly on the decimal share (in
    floating point, 0.07 · 100 is 7.000000000000001, whose ceiling is 8)."""
    return max(1, math.ceil(Fraction(str(min_support)) * count))


class ComputationTrees:
    r"""The computation trees of all nodes of a task's training graphs.

    Args:
        task (GraphSetTask): the task; only its training graphs are read.
        num_hops (int): the tree depth (the number of GNN layers).

    Attributes:
        codes (np.ndarray): tree codes :math:`(L + 1, N)` of the training nodes, per depth.
        source (tuple): the task's graph and node counts and training index, checked by
            :meth:`built_from`.
        labels (Tensor): the class of every training graph.
        seconds (float): the time taken to compute the codes.
    """

    def __init__(self, task: GraphSetTask, num_hops: int) -> None:
        start = time.perf_counter()
        data, train = task.data, task.index["train"]
        in_train = torch.zeros(task.num_graphs, dtype=torch.bool)
        in_train[train] = True
        local_graph = torch.full((task.num_graphs,), -1, dtype=torch.long)
        local_graph[train] = torch.arange(train.numel())
        node_mask = in_train[data.batch]
        nodes = node_mask.nonzero().view(-1)
        local_node = torch.full((data.num_nodes,), -1, dtype=torch.long)
        local_node[nodes] = torch.arange(nodes.numel())
        edge_mask = node_mask[data.edge_index[0]]
        edges = edge_mask.nonzero().view(-1)
        edge_index = local_node[data.edge_index[:, edges]]
        edge_attr = data.get("edge_attr")
        self.num_hops = num_hops
        self.source = (task.num_graphs, data.num_nodes, train.clone())
        self.x = data.x[nodes]
        self.edge_attr = None if edge_attr is None else edge_attr[edges]
        node_labels = feature_labels(self.x, nodes.numel())
        edge_labels = feature_labels(self.edge_attr, edges.numel())
        codes = tree_codes(node_labels, edge_index, num_hops, edge_labels)
        self.codes = codes.numpy()
        self.labels = task.y[train]
        self.num_graphs = train.numel()
        degree = torch.bincount(edge_index[1], minlength=nodes.numel())
        # (tree, graph) pairs: every graph's set of distinct trees, isolated nodes skipped
        graph = local_graph[data.batch[nodes]]
        pairs = torch.unique((codes[-1] * self.num_graphs + graph)[degree > 0])
        self._items, self._owners = pairs // self.num_graphs, pairs % self.num_graphs
        # receiver-sorted edges (CSR) to read a tree's children back from the graph
        order = torch.sort(edge_index[1], stable=True).indices
        self._senders = edge_index[0, order].numpy()
        self._edge_ids = order.numpy()
        self._ptr = np.concatenate([[0], np.cumsum(degree.numpy())])
        self._representative = [_first_index(row) for row in codes]
        self.seconds = time.perf_counter() - start

    def built_from(self, task: GraphSetTask) -> bool:
        r"""Whether these trees are those of :obj:`task`'s training graphs (same graph
        and node counts, same training index).

        Args:
            task (GraphSetTask): the task to compare with.

        Returns:
            bool: ``True`` if the counts and the training index match.
        """
        num_graphs, num_nodes, train = self.source
        return (num_graphs == task.num_graphs and num_nodes == task.data.num_nodes
                and torch.equal(train, task.index["train"]))

    def transactions(self, label: int) -> tuple[np.ndarray, np.ndarray, int]:
        r"""The (tree code, transaction) pairs of the class :obj:`label`'s graphs (each
        graph's set of distinct full-depth trees), and the number of transactions.

        Args:
            label (int): the class.

        Returns:
            ``(codes, transactions, count)``: the tree code and the transaction (the
            graph's rank among the class's training graphs) of each pair, and the number
            of the class's training graphs, those without an edge included.
        """
        in_class = self.labels == label
        transaction = torch.cumsum(in_class, 0) - 1  # graph -> its rank within the class
        keep = in_class[self._owners]
        return (self._items[keep].numpy(), transaction[self._owners[keep]].numpy(),
                int(in_class.sum()))

    def materialise(self, trees: tuple[int, ...], label: int) -> Data:
        r"""One training graph holding the full-depth trees :obj:`trees` as a DAG, roots
        first (``root_mask``), edges child -> parent, class :obj:`label`.

        Args:
            trees (tuple[int, ...]): full-depth tree codes, as mined.
            label (int): the class.

        Returns:
            Data: ``x`` and (if the task has them) ``edge_attr`` copied from a node and
            edges carrying each subtree, ``edge_index``, ``y`` of shape ``[1]`` and
            ``root_mask``.
        """
        depth = self.num_hops
        order = [(depth, code) for code in trees]
        ids = {node: i for i, node in enumerate(order)}
        senders, receivers, edge_ids = [], [], []
        i = 0
        while i < len(order):
            t, code = order[i]
            if t > 0:
                v = self._representative[t][code]
                for e in range(self._ptr[v], self._ptr[v + 1]):
                    child = (t - 1, int(self.codes[t - 1][self._senders[e]]))
                    if child not in ids:
                        ids[child] = len(order)
                        order.append(child)
                    senders.append(ids[child])
                    receivers.append(i)
                    edge_ids.append(self._edge_ids[e])
            i += 1
        rep = torch.tensor([self._representative[t][code] for t, code in order])
        root_mask = torch.zeros(len(order), dtype=torch.bool)
        root_mask[:len(trees)] = True
        graph = Data(x=self.x[rep], edge_index=torch.tensor([senders, receivers]).view(2, -1),
                     y=torch.tensor([label]), root_mask=root_mask)
        if self.edge_attr is not None:
            graph.edge_attr = self.edge_attr[torch.tensor(edge_ids, dtype=torch.long)]
        return graph


def _first_index(codes: Tensor) -> np.ndarray:
    # the first node carrying each code: any node with the code has the same tree
    first = torch.full((int(codes.max()) + 1,), codes.numel(), dtype=torch.long)
    first.scatter_reduce_(0, codes, torch.arange(codes.numel()), "amin")
    return first.numpy()


class Mirage:
    r"""The Mirage condenser.

    Args:
        num_hops (int, optional): the computation-tree depth; train GNNs with this many
            layers. (default: ``3``)
        min_support (float, optional): the support threshold as a share :math:`s` of
            each class's training graphs; class :math:`c` keeps the itemsets found in at
            least :math:`\lceil s \cdot n_c \rceil` of its :math:`n_c` graphs.
            (default: ``0.05``)
        itemsets (str, optional): keep only ``"closed"`` itemsets (no superset has the
            same support: the same information as all of them, far fewer), ``"all"``
            frequent itemsets (as the reference does) or only ``"maximal"`` ones.
            (default: ``"closed"``)
        exclusive (bool, optional): drop itemsets that are also frequent in another
            class. (default: ``False``)
        max_itemsets (int, optional): fail beyond this many itemsets per class (frequent
            ones with ``itemsets="all"``, else closed ones).
            (default: ``10000``)
    """

    def __init__(self, num_hops: int = 3, min_support: float = 0.05, itemsets: str = "closed",
                 exclusive: bool = False, max_itemsets: int = 10_000) -> None:
        check_count(num_hops, "num_hops", minimum=1)
        check_count(max_itemsets, "max_itemsets", minimum=1)
        if isinstance(min_support, bool) or not isinstance(min_support, (int, float)) or \
                not 0 < min_support <= 1:
            raise GkdError(f"min_support is a share of a class's graphs in (0, 1]; "
                           f"got {min_support}")
        if not isinstance(exclusive, bool):
            raise GkdError(f"exclusive takes True or False; got {exclusive!r}")
        if itemsets not in ITEMSET_KINDS:
            raise GkdError(f"unknown itemsets '{itemsets}'; choose from "
                           f"{', '.join(ITEMSET_KINDS)}")
        self.num_hops, self.min_support, self.itemsets = num_hops, min_support, itemsets
        self.exclusive, self.max_itemsets = exclusive, max_itemsets

    def condense(self, task: GraphSetTask, trees: ComputationTrees | None = None
                 ) -> DistilledSet:
        r"""Condenses the training graphs of :obj:`task`.

        Args:
            task (GraphSetTask): the task.
            trees (ComputationTrees, optional): the task's trees at :attr:`num_hops`,
                when already computed (their time is counted either way).
                (default: ``None``)

        Returns:
            DistilledSet: one graph per kept itemset, class by class; :attr:`info` holds
            the support threshold and the number of itemsets per class, the number of
            distinct trees, nodes and edges, and ``tree_seconds``.

        Raises:
            GkdError: :obj:`trees` have another depth than :attr:`num_hops` or come from
                another task's training graphs, a class has
                no training graph, a class mines more than
                :attr:`max_itemsets` itemsets, or a class keeps none.
        """
        start = time.perf_counter()
        reused = trees is not None
        if trees is None:
            trees = ComputationTrees(task, self.num_hops)
        elif trees.num_hops != self.num_hops:
            raise GkdError(f"trees of depth {trees.num_hops} given to Mirage with "
                           f"num_hops={self.num_hops}")
        elif not trees.built_from(task):
            raise GkdError("these trees were built from another task or split: their "
                           "training graphs are not this task's (rebuild them with "
                           "ComputationTrees(task, num_hops))")
        mined, bitsets, thresholds = {}, {}, {}
        for label in range(task.num_classes):
            codes, transaction, count = trees.transactions(label)
            if count == 0:
                raise GkdError(f"class {label} has no training graph")
            if codes.size == 0:  # isolated nodes root no tree
                raise GkdError(f"class {label}'s training graphs have no edges, so they hold "
                               f"no computation trees to condense")
            thresholds[label] = support_threshold(self.min_support, count)
            support = np.bincount(codes)
            frequent = support[codes] >= thresholds[label]
            bitsets[label] = bitsets_from_pairs(codes[frequent], transaction[frequent], count)
            try:
                mined[label] = frequent_itemsets(bitsets[label], thresholds[label],
                                                 kind=self.itemsets,
                                                 max_itemsets=self.max_itemsets)
            except GkdError as error:
                raise GkdError(f"class {label}, {count} training graphs, min_support "
                               f"{self.min_support} (at least {thresholds[label]} graphs): "
                               f"{error} (or max_itemsets)") from None
        if self.exclusive:
            mined = _exclusive(mined, bitsets, thresholds)
        empty = [str(label) for label, itemsets in mined.items() if not itemsets]
        if empty:  # a training set without some class cannot teach a classifier
            raise GkdError(f"no frequent itemsets for class(es) {', '.join(empty)} at "
                           f"min_support {self.min_support}; lower it")
        graphs = []
        for label, itemsets in mined.items():
            for items, graphs_holding in itemsets:
                graph = trees.materialise(items, label)
                graph.support = torch.tensor([graphs_holding])
                graphs.append(graph)
        seconds = time.perf_counter() - start + (trees.seconds if reused else 0.0)
        info = {"min_support": {str(c): t for c, t in thresholds.items()},
                "itemsets": {str(c): len(m) for c, m in mined.items()},
                "trees": len({code for m in mined.values() for items, _ in m for code in items}),
                "nodes": sum(g.num_nodes for g in graphs),
                "edges": sum(g.num_edges for g in graphs),
                "tree_seconds": round(trees.seconds, 3)}
        return DistilledSet(graphs, storage_bytes(graphs), seconds, info)


def _exclusive(mined: dict[int, list], bitsets: dict[int, dict[int, int]],
               thresholds: dict[int, int]) -> dict[int, list]:
    def frequent_elsewhere(items: tuple[int, ...], label: int) -> bool:
        for other, other_bits in bitsets.items():
            if other == label or any(item not in other_bits for item in items):
                continue
            joint = -1
            for item in items:
                joint &= other_bits[item]
            if joint.bit_count() >= thresholds[other]:
                return True
        return False

    return {label: [(items, support) for items, support in itemsets
                    if not frequent_elsewhere(items, label)]
            for label, itemsets in mined.items()}
