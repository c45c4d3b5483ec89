"""Link-prediction tasks: positive and negative node pairs for training, validation and
test over a node graph, in the transductive or the production setting.

A :class:`LinkTask` hands out the *observed* graph (its edges are the training
positives, the only edges message passing may use while training) and the evaluation
pairs. Validation pairs live in the observed graph; test pairs live in
:attr:`LinkTask.full_graph`, the graph at inference time, which never contains a test
edge. In the production setting (LLP, Appendix C.2) a share of the nodes is held out as
*new* nodes: they and all their edges are absent from the observed graph, and the test
edges are reported by group (old–old, old–new, new–new).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected, subgraph, to_undirected

from gkd.data.datasets import load_dataset
from gkd.data.splits import check_fractions, check_seed
from gkd.data.tasks import check_graph
from gkd.errors import GkdError
from gkd.ops import CSRGraph, sample_non_edges
from gkd.ops.checks import check_edge_index, check_node_ids

LINK_SETTINGS = ("transductive", "production")
# LLP holds out 30 % of the nodes of the small citation graphs and 10 % elsewhere.
_NEW_RATIOS = {"cora": 0.3, "citeseer": 0.3, "cora-npz": 0.3, "citeseer-npz": 0.3}


def production_new_ratio(dataset: str) -> float:
    r"""LLP's share of new nodes in the production split of :obj:`dataset`: ``0.3`` for
    Cora and CiteSeer (either copy), ``0.1`` for any other name.

    Args:
        dataset (str): the dataset name (case-insensitive).

    Returns:
        float: the share.
    """
    return _NEW_RATIOS.get(dataset.lower(), 0.1)


def _pair_keys(pairs: Tensor, num_nodes: int) -> Tensor:
    pairs = pairs.long()  # the keys overflow int32 beyond 46,340 nodes
    return pairs.min(dim=0).values * num_nodes + pairs.max(dim=0).values  # unordered


def _check_pairs(task: LinkTask) -> None:
    r"""Refuses a task whose pairs or observed nodes are not node ids of their graph,
    without validation positives or a ``"test"`` set, whose observed graph is not
    undirected or has no edge, or whose pairs would leak (a split drawn by
    :func:`make_link_task` never does)."""
    n_observed, n_full = task.graph.num_nodes, task.full_graph.num_nodes
    check_node_ids(task.observed_nodes, n_full, "observed_nodes")
    if task.observed_nodes.numel() != n_observed:
        raise GkdError(f"observed_nodes must name each of the observed graph's {n_observed} "
                       f"nodes; got {task.observed_nodes.numel()} ids")
    if "test" not in task.tests:
        raise GkdError(f"the test pairs must include a set named 'test'; got "
                       f"{', '.join(task.tests) or 'none'}")
    pairs = {"validation": (task.val, n_observed),
             **{name: (test, n_full) for name, test in task.tests.items()}}
    for name, (pair_set, num_nodes) in pairs.items():
        for kind, tensor in (("positives", pair_set.pos), ("negatives", pair_set.neg)):
            check_edge_index(tensor, num_nodes, f"the {name} {kind}")
    if task.val.pos.size(1) == 0:
        raise GkdError("the validation set has no positive pair to select on")
    if not is_undirected(task.graph.edge_index, num_nodes=task.graph.num_nodes):
        raise GkdError("the observed graph's edge_index must hold both directions of every "
                       "edge (torch_geometric.utils.to_undirected)")
    if task.train_pos.size(1) == 0:
        raise GkdError("the observed graph has no edge to train on")
    n, ids = task.full_graph.num_nodes, task.observed_nodes
    trained = _pair_keys(ids[task.graph.edge_index], n)
    edges = torch.cat([trained, _pair_keys(task.full_graph.edge_index, n)])
    sets = {"validation": (ids[task.val.pos], ids[task.val.neg]),
            **{name: (pairs.pos, pairs.neg) for name, pairs in task.tests.items()}}
    positives = torch.cat([_pair_keys(pos, n) for pos, _ in sets.values()])
    for name, (pos, neg) in sets.items():
        seen = trained if name == "validation" else edges
        if bool(torch.isin(_pair_keys(pos, n), seen).any()):
            where = "the observed graph" if name == "validation" else "full_graph"
            raise GkdError(f"a {name} edge is also an edge of {where}: the models would see "
                           f"it")
        if bool(torch.isin(_pair_keys(neg, n), torch.cat([edges, positives])).any()):
            raise GkdError(f"a {name} non-edge is an edge or a positive pair of the task")


@dataclass(frozen=True)
class LinkPairs:
    r"""Positive and negative node pairs of one evaluation set.

    Args:
        pos (Tensor): edges :math:`(2, P)`.
        neg (Tensor): non-edges :math:`(2, Q)`.
    """

    pos: Tensor
    neg: Tensor


class LinkTask:
    r"""A link-prediction task: the observed graph with its training positives, and the
    validation and test pairs.

    Use :func:`make_link_task` to draw one from a graph.

    Args:
        graph (Data): the observed graph with ``x`` and the training edges (both
            directions) as ``edge_index``.
        val (LinkPairs): validation pairs, in :obj:`graph`'s node ids.
        full_graph (Data): the graph at inference time: every node and every non-test
            edge. The same object as :obj:`graph` when no node is held out.
        tests (dict[str, LinkPairs]): test pairs by name (``"test"`` and, in the
            production setting, ``"test_old_old"``, ``"test_old_new"``,
            ``"test_new_new"``), in :obj:`full_graph`'s node ids.
        observed_nodes (Tensor): the ids in :obj:`full_graph` of :obj:`graph`'s nodes.
        setting (str, optional): ``"transductive"`` or ``"production"``.
            (default: ``"transductive"``)
        seed (int, optional): the split seed. (default: ``0``)
        info (dict, optional): descriptive fields (dataset, ratios). (default: ``None``)

    Raises:
        GkdError: an unknown setting; a graph whose features are not a finite float32
            matrix or whose edges are malformed (:func:`~gkd.data.tasks.check_graph`);
            pairs that are not integer :math:`(2, P)` tensors of
            node ids of their graph, :obj:`observed_nodes` that are not one id of
            :obj:`full_graph` per node of :obj:`graph`, no validation positive or no
            ``"test"`` set; an observed graph that is not undirected or has no edge; or
            pairs that leak: a validation edge in the observed graph, a test edge in
            :obj:`full_graph`, or a negative that is an edge or a positive pair.
    """

    def __init__(self, graph: Data, val: LinkPairs, full_graph: Data,
                 tests: dict[str, LinkPairs], observed_nodes: Tensor, *,
                 setting: str = "transductive", seed: int = 0, info: dict | None = None) -> None:
        if setting not in LINK_SETTINGS:
            raise GkdError(f"unknown setting '{setting}'; choose from {', '.join(LINK_SETTINGS)}")
        for observed in {id(g): g for g in (graph, full_graph)}.values():
            check_graph(observed, labels=False, simple=False)
        self.graph, self.val, self.full_graph, self.tests = graph, val, full_graph, tests
        self.observed_nodes = observed_nodes
        self.setting, self.seed, self.info = setting, seed, dict(info or {})
        src, dst = graph.edge_index
        self.train_pos = graph.edge_index[:, src < dst]
        _check_pairs(self)

    @property
    def num_features(self) -> int:
        r"""The node feature size :math:`F`."""
        return self.graph.num_features

    @property
    def device(self) -> torch.device:
        r"""Where the task's tensors, and the models trained on it, live."""
        return self.graph.x.device

    def to(self, device: str | torch.device) -> LinkTask:
        r"""The same task with every tensor on :obj:`device` (same split, same
        :meth:`fingerprint`).

        Args:
            device (str or torch.device): the target device.

        Returns:
            LinkTask: a new task; this one is unchanged.
        """
        graph = self.graph.to(device)
        full_graph = graph if self.full_graph is self.graph else self.full_graph.to(device)
        tests = {name: LinkPairs(p.pos.to(device), p.neg.to(device))
                 for name, p in self.tests.items()}
        return LinkTask(graph, LinkPairs(self.val.pos.to(device), self.val.neg.to(device)),
                        full_graph, tests, self.observed_nodes.to(device),
                        setting=self.setting, seed=self.seed, info=self.info)

    def fingerprint(self) -> str:
        r"""A digest of the split's content, to key caches: the setting, the node
        features, the observed nodes, the training positives, every pair set (by name)
        and the edges of :attr:`full_graph`, each tensor with its dtype and shape (so that
        no two splits hash the same bytes).

        Returns:
            str: the first 24 hex digits of a SHA-256 digest.
        """
        digest = hashlib.sha256(f"{self.setting}:{','.join(self.tests)}".encode())
        tensors = [self.full_graph.x, self.observed_nodes, self.train_pos, self.val.pos,
                   self.val.neg, self.full_graph.edge_index]
        for test in self.tests.values():
            tensors += [test.pos, test.neg]
        for tensor in tensors:
            digest.update(f"{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.cpu().contiguous().numpy())  # hashed in place, no copy
        return digest.hexdigest()[:24]

    def sizes(self) -> dict[str, int]:
        r"""Node and edge counts of the split, for the run record (negatives per set are
        as many as positives unless stated)."""
        sizes = {"num_nodes": self.full_graph.num_nodes,
                 "observed_nodes": self.graph.num_nodes,
                 "train": self.train_pos.size(1), "val": self.val.pos.size(1),
                 "val_neg": self.val.neg.size(1)}
        for name, pairs in self.tests.items():
            sizes[name] = pairs.pos.size(1)
        sizes["test_neg"] = self.tests["test"].neg.size(1)
        return sizes

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return f"LinkTask({self.info.get('dataset', 'graph')}, {self.setting}, {sizes})"


def _unique_edges(edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""Each undirected edge once, as :math:`u < v`, in sorted order: edges given in one
    direction only count as undirected, repeated edges count once, self-loops not at all."""
    edge_index = to_undirected(edge_index.long(), num_nodes=num_nodes)  # 64-bit pair keys
    src, dst = edge_index
    return edge_index[:, src < dst]


def _check_parts(num_edges: int, **parts: Tensor) -> None:
    r"""Raises a :class:`GkdError` naming the parts of a split left without an edge."""
    empty = [name for name, part in parts.items() if part.size(1) == 0]
    if empty:
        raise GkdError(f"the link split leaves no {' or '.join(empty)} edges; the graph's "
                       f"{num_edges} undirected edges are too few for its ratios")


def _cut(edges: Tensor, shares: list[float], generator: torch.Generator) -> list[Tensor]:
    r"""A random partition of the columns of :obj:`edges`: one part per share (rounded
    down), the rest last."""
    perm = edges[:, torch.randperm(edges.size(1), generator=generator)]
    counts = [int(share * edges.size(1)) for share in shares]
    return list(perm.split([*counts, edges.size(1) - sum(counts)], dim=1))


def _negatives(edges: Tensor, num_nodes: int, count: int,
               generator: torch.Generator) -> Tensor:
    r""":obj:`count` uniformly drawn node pairs that are not edges of :obj:`edges`."""
    graph = CSRGraph.from_edge_index(to_undirected(edges, num_nodes=num_nodes), num_nodes)
    return sample_non_edges(graph, count, generator)


def _on_cpu(data: Data) -> tuple[Data, torch.device]:
    r"""The graph on the CPU, where the split's generator draws, and its device, where the
    task goes afterwards (:meth:`LinkTask.to`)."""
    return Data(x=data.x.cpu(), edge_index=data.edge_index.cpu()), data.x.device


def _moved(task: LinkTask, device: torch.device) -> LinkTask:
    return task if device.type == "cpu" else task.to(device)


def _graph(x: Tensor, edges: Tensor) -> Data:
    return Data(x=x, edge_index=to_undirected(edges, num_nodes=x.size(0)))


def transductive_link_split(data: Data, val_ratio: float = 0.05, test_ratio: float = 0.15,
                            seed: int = 0) -> LinkTask:
    r"""The random edge split of LLP: a share of the edges for validation and for test,
    each with as many sampled non-edges of the whole graph; the rest are the training
    positives and the only edges of the observed graph.

    Args:
        data (Data): a graph with ``x`` and ``edge_index``. Its edges count as
            undirected (one direction suffices), repeated edges once, self-loops not at all.
        val_ratio (float, optional): validation share of the edges. (default: ``0.05``)
        test_ratio (float, optional): test share of the edges. (default: ``0.15``)
        seed (int, optional): the split seed. (default: ``0``)

    Returns:
        LinkTask: a ``"transductive"`` task whose :attr:`~LinkTask.full_graph` is its
        observed graph and whose only test set is ``"test"``, on the device of
        :obj:`data` (the split is drawn on the CPU, the same on every device).

    Raises:
        GkdError: a malformed graph, ratios outside :math:`(0, 1)` or summing to 1 or
            more, or too few edges for a training, validation and test edge each.
    """
    check_graph(data, labels=False, simple=False)  # pairs are deduplicated here
    check_fractions("link split ratios", val_ratio=val_ratio, test_ratio=test_ratio)
    generator = torch.Generator().manual_seed(check_seed(seed))
    data, device = _on_cpu(data)
    edges = _unique_edges(data.edge_index, data.num_nodes)
    val, test, train = _cut(edges, [val_ratio, test_ratio], generator)
    _check_parts(edges.size(1), train=train, validation=val, test=test)
    neg = _negatives(edges, data.num_nodes, val.size(1) + test.size(1), generator)
    graph = _graph(data.x, train)
    task = LinkTask(graph, LinkPairs(val, neg[:, :val.size(1)]), graph,
                    {"test": LinkPairs(test, neg[:, val.size(1):])},
                    torch.arange(data.num_nodes), setting="transductive", seed=seed,
                    info={"val_ratio": val_ratio, "test_ratio": test_ratio})
    return _moved(task, device)


def production_link_split(data: Data, new_ratio: float = 0.3, inference_ratio: float = 0.1,
                          seed: int = 0) -> LinkTask:
    r"""The production split of LLP (Appendix C.2).

    A share :obj:`new_ratio` of the nodes is held out as new nodes. The old–old edges are
    cut into test (:obj:`new_ratio`), extra inference-time edges (:obj:`inference_ratio`)
    and observed edges, which are cut again into validation (:obj:`new_ratio`) and
    training. A share :obj:`new_ratio` of the old–new and of the new–new edges is test;
    the rest are visible at inference. Training sees only the old-node subgraph of the
    training edges; inference sees every node and every non-test edge. One set of
    negatives, non-edges of the whole graph as many as the test positives, is shared by
    every test group; validation negatives are non-edges among old nodes.

    Args:
        data (Data): a graph with ``x`` and ``edge_index``. Its edges count as
            undirected (one direction suffices), repeated edges once, self-loops not at all.
        new_ratio (float, optional): share of new nodes, and the test (and validation)
            share of each edge group. LLP uses 0.3 on Cora and CiteSeer, 0.1 elsewhere.
            (default: ``0.3``)
        inference_ratio (float, optional): share of old–old edges visible only at
            inference. (default: ``0.1``)
        seed (int, optional): the split seed. (default: ``0``)

    Returns:
        LinkTask: a ``"production"`` task whose observed graph holds the old nodes only
        (renumbered; :attr:`~LinkTask.observed_nodes` maps them back) and whose test sets
        are ``"test"``, ``"test_old_old"``, ``"test_old_new"`` and ``"test_new_new"``, on
        the device of :obj:`data` (the split is drawn on the CPU).

    Raises:
        GkdError: a malformed graph, ratios outside :math:`(0, 1)` or summing to 1 or
            more, or too few edges for a training, validation and test edge each.
    """
    check_graph(data, labels=False, simple=False)  # pairs are deduplicated here
    check_fractions("link split ratios", new_ratio=new_ratio, inference_ratio=inference_ratio)
    generator = torch.Generator().manual_seed(check_seed(seed))
    data, device = _on_cpu(data)
    n = data.num_nodes
    is_new = torch.zeros(n, dtype=torch.bool)
    is_new[torch.randperm(n, generator=generator)[:int(new_ratio * n)]] = True
    edges = _unique_edges(data.edge_index, n)
    group = is_new[edges].sum(dim=0)  # 0: old-old, 1: old-new, 2: new-new
    old_test, extra, observed = _cut(edges[:, group == 0], [new_ratio, inference_ratio],
                                     generator)
    val, train = _cut(observed, [new_ratio], generator)
    cross_test, cross_seen = _cut(edges[:, group == 1], [new_ratio], generator)
    new_test, new_seen = _cut(edges[:, group == 2], [new_ratio], generator)
    test = torch.cat([old_test, cross_test, new_test], dim=1)
    _check_parts(edges.size(1), train=train, validation=val, test=test)

    old = (~is_new).nonzero().view(-1)
    local = torch.full((n,), -1, dtype=torch.long)
    local[old] = torch.arange(old.numel())
    old_edges = subgraph(old, edges, relabel_nodes=True, num_nodes=n)[0]
    val_neg = _negatives(old_edges, old.numel(), val.size(1), generator)
    neg = _negatives(edges, n, test.size(1), generator)
    graph = _graph(data.x[old], local[train])
    full_graph = _graph(data.x, torch.cat([train, val, extra, cross_seen, new_seen], dim=1))
    tests = {"test": LinkPairs(test, neg), "test_old_old": LinkPairs(old_test, neg),
             "test_old_new": LinkPairs(cross_test, neg), "test_new_new": LinkPairs(new_test, neg)}
    task = LinkTask(graph, LinkPairs(local[val], val_neg), full_graph, tests, old,
                    setting="production", seed=seed,
                    info={"new_ratio": new_ratio, "inference_ratio": inference_ratio})
    return _moved(task, device)


def make_link_task(data: Data, setting: str = "transductive", *, seed: int = 0,
                   test_ratio: float = 0.15, new_ratio: float = 0.3,
                   info: dict | None = None) -> LinkTask:
    r"""Draws the link split of :obj:`setting` from :obj:`data`.

    Args:
        data (Data): a graph with ``x`` and ``edge_index`` (see
            :func:`transductive_link_split`).
        setting (str, optional): ``"transductive"`` (5 % validation, :obj:`test_ratio`
            test edges) or ``"production"`` (:obj:`new_ratio` new nodes).
            (default: ``"transductive"``)
        seed (int, optional): the split seed. (default: ``0``)
        test_ratio (float, optional): the transductive test share; LLP's paper states
            0.15, its code uses 0.10. (default: ``0.15``)
        new_ratio (float, optional): the production share of new nodes. (default: ``0.3``)
        info (dict, optional): descriptive fields merged into :attr:`LinkTask.info`.
            (default: ``None``)

    Returns:
        LinkTask: the task (see :func:`transductive_link_split` and
        :func:`production_link_split`, whose other ratios keep their defaults).

    Raises:
        GkdError: an unknown setting, a seed that is not a non-negative integer, a
            malformed graph (e.g. edges outside its nodes), a
            ratio outside :math:`(0, 1)`, or too few edges for a training, validation and
            test edge each.
    """
    if setting not in LINK_SETTINGS:
        raise GkdError(f"unknown setting '{setting}'; choose from {', '.join(LINK_SETTINGS)}")
    seed = check_seed(seed)
    if setting == "transductive":
        task = transductive_link_split(data, test_ratio=test_ratio, seed=seed)
    else:
        task = production_link_split(data, new_ratio=new_ratio, seed=seed)
    task.info.update(info or {})
    return task


def load_link_task(name: str, setting: str = "transductive", *, seed: int = 0,
                   root: str | os.PathLike | None = None,
                   cache: str | os.PathLike | None = None, test_ratio: float = 0.15,
                   new_ratio: float | None = None) -> LinkTask:
    r"""Loads dataset :obj:`name` and draws its link split (see :func:`make_link_task`).

    Args:
        name (str): a name :func:`~gkd.data.load_dataset` knows; stored as ``dataset``
            in :attr:`LinkTask.info`.
        setting (str, optional): ``"transductive"`` or ``"production"``.
            (default: ``"transductive"``)
        seed (int, optional): the split seed. (default: ``0``)
        root (str or os.PathLike, optional): the data root. (default: ``$GKD_DATA_ROOT``
            or ``./datasets``)
        cache (str or os.PathLike, optional): the writable cache dir for processed files.
            (default: ``$GKD_CACHE_DIR`` or the user cache folder)
        test_ratio (float, optional): the transductive test share of the edges.
            (default: ``0.15``)
        new_ratio (float, optional): the production share of new nodes.
            (default: ``None``, LLP's share for the dataset,
            :func:`production_new_ratio`: 0.3 on Cora and CiteSeer, 0.1 elsewhere, as in
            ``gkd linkpred``)

    Returns:
        LinkTask: the task.

    Raises:
        GkdError: an unknown dataset, or any error of :func:`make_link_task`.
        DatasetNotFoundError: the dataset's files are missing.
    """
    new_ratio = production_new_ratio(name) if new_ratio is None else new_ratio
    return make_link_task(load_dataset(name, root, cache), setting, seed=seed,
                          test_ratio=test_ratio, new_ratio=new_ratio, info={"dataset": name})
