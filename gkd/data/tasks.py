"""Node-classification tasks: a graph, its split, and a setting.

A :class:`NodeTask` is what every teacher, distiller and evaluator consumes. It hands
out the *observed* graph (what training and model selection may see) with split
indices local to it, and the evaluation sets. In the inductive setting the held-out
``test_ind`` nodes and all their edges are absent from the observed graph; they exist
only in :attr:`NodeTask.full_graph`, which is used for final evaluation alone.
"""
from __future__ import annotations

import copy
import hashlib
import os
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData
from torch_geometric.transforms import LargestConnectedComponents, NormalizeFeatures

from gkd.data.datasets import load_dataset
from gkd.data.splits import (
    check_seed,
    check_split_index,
    inductive_split,
    mask_split,
    per_class_split,
    random_split,
)
from gkd.errors import GkdError
from gkd.ops.checks import check_edge_index

PROTOCOLS = ("cpf", "public", "ogb", "random", "krd")
SETTINGS = ("transductive", "inductive")

# The CPF protocol is defined on the gnn-benchmark npz copies; their node order is the
# one the reference splits were drawn on.
CPF_SOURCES = {"cora": "cora-npz", "citeseer": "citeseer-npz"}
PLANETOID = ("cora", "citeseer", "pubmed")


@dataclass(frozen=True)
class EvalSet:
    r"""Nodes :obj:`index` of :obj:`graph` on which a metric is computed.

    Args:
        graph (Data): the graph a model runs on.
        index (Tensor): the scored nodes, in :obj:`graph`'s node ids.
    """

    graph: Data
    index: Tensor


class NodeTask:
    r"""A node-classification task in the transductive or inductive setting.

    Args:
        data (Data): the whole graph with ``x`` ``[N, F]``, ``y`` ``[N]`` (or OGB's
            ``[N, 1]``; nodes outside every split may be unlabelled, ``-1``) and an
            undirected ``edge_index``. The task's tensors, split indices included, live
            on its device.
        train_idx (Tensor): training nodes of :obj:`data` (any index
            :func:`torch.as_tensor` takes: a list or a numpy array too), or a boolean
            mask over its nodes (PyG's ``train_mask``).
        val_idx (Tensor): validation nodes of :obj:`data`, likewise.
        test_idx (Tensor): test nodes of :obj:`data`, likewise.
        setting (str, optional): ``"transductive"`` or ``"inductive"``; the latter holds
            a share :obj:`split_rate` of the test nodes out with all their edges.
            (default: ``"transductive"``)
        split_rate (float, optional): the held-out share of test nodes in the
            inductive setting. (default: ``0.2``)
        seed (int, optional): seeds the inductive hold-out. (default: ``0``)
        held_out (Tensor, optional): the test nodes to hold out in the inductive setting,
            instead of a drawn share (e.g. KRD's whole Planetoid test set);
            :attr:`split_rate` becomes their share of the test nodes. (default: ``None``)
        info (dict, optional): descriptive fields (dataset, protocol) kept in
            :attr:`info`. (default: ``None``)

    Attributes:
        graph (Data): the observed graph, relabelled to ``0..n_obs-1``.
        train_idx, val_idx, test_idx (Tensor): split indices into :attr:`graph`
            (``test_idx`` is ``test_tran`` in the inductive setting).
        full_graph (Data): the whole graph, for final evaluation only.
        test_ind_idx (Tensor or None): held-out nodes of :attr:`full_graph`.
        observed_nodes (Tensor): ids in :attr:`full_graph` of the nodes of :attr:`graph`.

    Raises:
        GkdError: a malformed graph (see :func:`check_graph`; negative labels are
            refused on split nodes only), labels of one class, an unknown setting, a
            split that is empty, not a 1-D integer index or node mask, out of range,
            repeats nodes or overlaps another, an inductive hold-out that would be empty
            or take every test node, or :obj:`held_out` outside the test nodes or given
            in the transductive setting.
    """

    def __init__(self, data: Data, train_idx: Tensor, val_idx: Tensor, test_idx: Tensor, *,
                 setting: str = "transductive", split_rate: float = 0.2, seed: int = 0,
                 held_out: Tensor | None = None, info: dict | None = None) -> None:
        check_graph(data, labels=False)
        if isinstance(data.y, Tensor) and data.y.dim() == 2 and data.y.size(1) == 1:
            data = copy.copy(data)  # OGB's labels are [N, 1]
            data.y = data.y.view(-1)
        seed = check_seed(seed)
        ignored = [key for key in data.edge_attrs() if key != "edge_index"]
        if ignored:
            warnings.warn(f"the task keeps only edge_index: {', '.join(ignored)} ignored (the "
                          f"teachers train on the unweighted graph)", stacklevel=2)
        if setting not in SETTINGS:
            raise GkdError(f"unknown setting '{setting}'; choose from {', '.join(SETTINGS)}")
        if held_out is not None and setting != "inductive":
            raise GkdError("held_out is the inductive hold-out; the transductive setting "
                           "holds no node out")
        device = data.x.device
        train_idx, val_idx, test_idx = (_node_index(idx, data.num_nodes, device)
                                        for idx in (train_idx, val_idx, test_idx))
        _check_splits({"train": train_idx, "val": val_idx, "test": test_idx}, data.num_nodes,
                      device)
        train_idx, val_idx, test_idx = train_idx.long(), val_idx.long(), test_idx.long()
        _check_labels(data.y, data.num_nodes, torch.cat([train_idx, val_idx, test_idx]))
        self.setting, self.split_rate, self.seed = setting, split_rate, seed
        self.full_graph = Data(x=data.x, y=data.y, edge_index=data.edge_index)
        self.num_classes = int(data.y.max()) + 1
        if self.num_classes < 2:
            raise GkdError("the labels hold a single class: there is nothing to classify "
                           "or distil")
        counts = torch.bincount(data.y[train_idx], minlength=self.num_classes)
        untrained = (counts == 0).nonzero().view(-1).tolist()
        if untrained:
            warnings.warn(f"no training node of class(es) {untrained}: no model can learn "
                          f"them from labels", stacklevel=2)
        if setting == "transductive":
            self.graph = self.full_graph
            self.observed_nodes = torch.arange(data.num_nodes, device=device)
            self.test_ind_idx = None
            self.train_idx, self.val_idx, self.test_idx = train_idx, val_idx, test_idx
        else:
            if held_out is None:
                test_tran, self.test_ind_idx = inductive_split(test_idx, split_rate, seed)
            else:
                test_tran, self.test_ind_idx = _given_hold_out(test_idx, held_out,
                                                               data.num_nodes)
                # the held-out share, so that test_prod mixes as for a drawn hold-out
                self.split_rate = split_rate = self.test_ind_idx.numel() / test_idx.numel()
            if test_tran.numel() == 0:
                raise GkdError("the inductive hold-out takes every test node: no "
                               "transductive test node (test_tran) is left to score")
            observed = torch.ones(data.num_nodes, dtype=torch.bool, device=device)
            observed[self.test_ind_idx] = False
            self.graph = self.full_graph.subgraph(observed)
            self.observed_nodes = observed.nonzero().view(-1)
            local = torch.full((data.num_nodes,), -1, dtype=torch.long, device=device)
            local[self.observed_nodes] = torch.arange(self.observed_nodes.numel(), device=device)
            self.train_idx, self.val_idx, self.test_idx = (
                local[train_idx], local[val_idx], local[test_tran])
        self.info = dict(info or {}, setting=setting, seed=seed, **self.sizes())
        if setting == "inductive":
            self.info["split_rate"] = split_rate

    @property
    def num_features(self) -> int:
        r"""The node feature size :math:`F`."""
        return self.graph.num_features

    @property
    def train_mask(self) -> Tensor:
        r"""A boolean mask over :attr:`graph`'s nodes, set at :attr:`train_idx`."""
        mask = torch.zeros(self.graph.num_nodes, dtype=torch.bool, device=self.train_idx.device)
        mask[self.train_idx] = True
        return mask

    def check_model(self, model: torch.nn.Module, role: str) -> None:
        r"""Raises a :class:`~gkd.errors.GkdError` if :obj:`model` declares an input or
        output size (``in_channels``, ``out_channels``, as :class:`~gkd.nn.MLP` and PyG's
        models do) other than the task's features and classes, or has parameters on
        another device than the task; a model that declares neither size passes.

        Args:
            model (torch.nn.Module): the model about to be trained on the task.
            role (str): what the model is, for the message (e.g. ``"student"``).
        """
        for attr, size, what in (("in_channels", self.num_features, "features"),
                                 ("out_channels", self.num_classes, "classes")):
            declared = getattr(model, attr, None)
            if isinstance(declared, int) and declared != size:
                raise GkdError(f"the {role}'s {attr} is {declared} but the task has {size} "
                               f"{what}")
        check_device(model, self.graph.x.device, role)

    def sizes(self) -> dict[str, int]:
        r"""Node counts of the graph and of every split."""
        out = {"num_nodes": self.full_graph.num_nodes,
               "num_edges": self.full_graph.num_edges // 2,
               "train": self.train_idx.numel(), "val": self.val_idx.numel()}
        if self.test_ind_idx is None:
            out["test"] = self.test_idx.numel()
        else:
            out.update(test_tran=self.test_idx.numel(), test_ind=self.test_ind_idx.numel())
        return out

    def fingerprint(self) -> str:
        r"""A SHA-256 digest of the graph's tensors, the split and the setting: equal for
        two tasks exactly when they hold the same data, so it can key caches."""
        digest = hashlib.sha256(f"{self.setting}:{self.split_rate}".encode())
        tensors = [self.full_graph.x, self.full_graph.y, self.full_graph.edge_index,
                   self.train_idx, self.val_idx, self.test_idx]
        if self.test_ind_idx is not None:
            tensors.append(self.test_ind_idx)
        for tensor in tensors:
            digest.update(str((tensor.dtype, tuple(tensor.shape))).encode())
            digest.update(tensor.cpu().contiguous().numpy())  # hashed in place, no copy
        return digest.hexdigest()

    def eval_sets(self) -> dict[str, EvalSet]:
        r"""The named node sets a model is scored on: ``val`` and ``test`` in the
        transductive setting; ``val``, ``test_tran`` (observed graph) and ``test_ind``
        (full graph, held-out nodes restored) in the inductive one."""
        sets = {"val": EvalSet(self.graph, self.val_idx)}
        if self.test_ind_idx is None:
            sets["test"] = EvalSet(self.graph, self.test_idx)
        else:
            sets["test_tran"] = EvalSet(self.graph, self.test_idx)
            sets["test_ind"] = EvalSet(self.full_graph, self.test_ind_idx)
        return sets

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return f"NodeTask({self.info.get('dataset', 'graph')}, {self.setting}, {sizes})"


def check_device(model: torch.nn.Module, device: torch.device, role: str) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` if :obj:`model` has parameters on
    another device than :obj:`device`, where its data lives.

    Args:
        model (torch.nn.Module): the model.
        device (torch.device): the data's device.
        role (str): what the model is, for the message (e.g. ``"teacher"``).
    """
    devices = {p.device for p in model.parameters()}
    if devices and device not in devices:
        raise GkdError(f"the {role}'s parameters are on {', '.join(sorted(map(str, devices)))} "
                       f"and the data on {device}: move it with {role}.to({str(device)!r})")


def _given_hold_out(test_idx: Tensor, held_out: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    held_out = torch.as_tensor(held_out, device=test_idx.device)
    check_split_index("held_out", held_out, num_nodes)
    held_out = held_out.long()
    in_test = torch.isin(test_idx, held_out)
    if int(in_test.sum()) != held_out.numel():
        raise GkdError("held_out must be test nodes")
    return test_idx[~in_test].sort().values, held_out.sort().values


# --- validation --------------------------------------------------------------------


def _official_masks(data: Data) -> tuple[Tensor, Tensor, Tensor]:
    masks = []
    for name in ("train_mask", "val_mask", "test_mask"):
        mask = getattr(data, name, None)
        if mask is None:
            raise GkdError(f"the official split needs train_mask, val_mask and test_mask; the "
                           f"graph has no {name}")
        if mask.dtype not in (torch.bool, torch.uint8) or mask.dim() not in (1, 2) \
                or mask.size(0) != data.num_nodes:
            raise GkdError(f"{name} must be a boolean mask of shape [{data.num_nodes}] or "
                           f"[{data.num_nodes}, num_splits]; got {mask.dtype} of shape "
                           f"{tuple(mask.shape)}")
        masks.append(mask.bool())  # uint8: older PyG and DGL exports
    return masks[0], masks[1], masks[2]


def check_graph(data: Data, labels: bool = True, simple: bool = True) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` naming the first problem of :obj:`data`:
    a heterogeneous graph, features ``x`` that are not a finite ``torch.float32``
    ``[N, F]`` matrix with :math:`F \geq 1` or that require grad, an ``edge_index`` that
    is not ``[2, E]`` over nodes ``0..N-1`` or (with :obj:`simple`) not undirected and
    simple (no self-loops, no repeated edges, every edge with its reverse), or (with
    :obj:`labels`) labels ``y`` that are not one ``torch.long`` class index ``0..C-1``
    per node.

    Args:
        data (Data): the graph.
        labels (bool, optional): also check the labels ``y``. (default: ``True``)
        simple (bool, optional): also check that the graph is undirected and simple.
            (default: ``True``)
    """
    if isinstance(data, HeteroData):
        raise GkdError("heterogeneous graphs (HeteroData) are not supported; convert to a "
                       "homogeneous Data first (HeteroData.to_homogeneous())")
    x, y, edge_index = data.x, data.y, data.edge_index
    if x is None or x.dim() != 2 or x.size(1) == 0:
        raise GkdError(f"node features must have shape [num_nodes, num_features] with at "
                       f"least one feature; got {None if x is None else tuple(x.shape)}")
    if x.requires_grad:
        raise GkdError("node features require grad (computed by a model?); pass x.detach()")
    if x.layout != torch.strided:
        raise GkdError(f"node features must be a dense tensor; got layout {x.layout} (use "
                       f"x.to_dense())")
    if data.num_nodes != x.size(0):
        raise GkdError(f"the graph declares {data.num_nodes} nodes (num_nodes) but x has "
                       f"{x.size(0)} rows: one feature row per node")
    if x.dtype != torch.float32:
        raise GkdError(f"node features must be torch.float32, the models' dtype; got {x.dtype} "
                       f"(use x.float())")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=1).sum())
        raise GkdError(f"node features contain NaN or infinite values ({bad} nodes)")
    if labels:
        _check_labels(y, x.size(0))
    if edge_index is None:
        raise GkdError("the graph has no edge_index")
    check_edge_index(edge_index, x.size(0))
    if simple:
        _check_undirected_simple(edge_index, x.size(0))


def _check_undirected_simple(edge_index: Tensor, num_nodes: int) -> None:
    # The teachers add self-loops themselves, and the edge-wise and CSR code paths would
    # count duplicates differently: the graph must be as the loaders leave it.
    loops = int((edge_index[0] == edge_index[1]).sum())
    if loops:
        raise GkdError(f"the graph has {loops} self-loop(s); the teachers add their own: "
                       f"remove them (torch_geometric.utils.remove_self_loops)")
    edge_index = edge_index.long()  # the keys below overflow int32 beyond 46,340 nodes
    keys = (edge_index[0] * num_nodes + edge_index[1]).sort().values
    repeated = int((keys[1:] == keys[:-1]).sum())
    if repeated:
        raise GkdError(f"the graph has {repeated} repeated edge(s): coalesce it "
                       f"(torch_geometric.utils.coalesce)")
    if not torch.equal(keys, (edge_index[1] * num_nodes + edge_index[0]).sort().values):
        raise GkdError("the graph is directed: an edge (u, v) lacks its reverse (v, u); make "
                       "it undirected (torch_geometric.utils.to_undirected)")


def _check_labels(y: Tensor | None, num_nodes: int, labelled: Tensor | None = None) -> None:
    r"""Raises unless :obj:`y` holds one ``torch.long`` label per node, a class index
    ``0..C-1`` on every node of :obj:`labelled` (default: every node)."""
    if y is None or y.dim() != 1 or y.numel() != num_nodes:
        raise GkdError(f"labels must have shape [{num_nodes}] (one class index per node); got "
                       f"{None if y is None else tuple(y.shape)}")
    if y.dtype != torch.long:
        raise GkdError(f"labels must be integer class indices of dtype torch.long; got "
                       f"{y.dtype} (use y.long())")
    if labelled is None:
        negative = int((y < 0).sum())
        if negative:
            raise GkdError(f"labels must be class indices 0..C-1; {negative} nodes have a "
                           f"negative label (unlabelled nodes are not supported)")
    else:
        negative = int((y[labelled] < 0).sum())
        if negative:
            raise GkdError(f"labels must be class indices 0..C-1 on the split nodes; "
                           f"{negative} of them have a negative label (unlabelled nodes may "
                           f"only lie outside the train, val and test splits)")


def _node_index(idx: Any, num_nodes: int, device: torch.device) -> Tensor:
    r"""A split given as indices or as a boolean mask over the nodes (PyG's
    ``train_mask``), as the index tensor it stands for."""
    idx = torch.as_tensor(idx, device=device)
    if idx.dtype == torch.bool and idx.dim() == 1 and idx.numel() == num_nodes:
        return idx.nonzero().view(-1)
    return idx


def _check_splits(splits: dict[str, Tensor], num_nodes: int, device: torch.device) -> None:
    seen = torch.zeros(num_nodes, dtype=torch.bool, device=device)
    for name, idx in splits.items():
        check_split_index(name, idx, num_nodes)
        idx = idx.long()  # a uint8 index would read as a mask
        if seen[idx].any():
            raise GkdError(f"the {name} split overlaps another split")
        seen[idx] = True


# --- protocols ---------------------------------------------------------------------


def largest_connected_component(data: Data) -> Data:
    r"""The largest connected component, nodes kept in their original order, with class
    indices renumbered to ``0..C-1`` over the classes that remain (in their original
    order).

    Args:
        data (Data): a graph with labels ``y``; it is not modified.

    Returns:
        Data: a shallow copy of :obj:`data` restricted to the component (node-level
        attributes such as masks included), or of all of it when it is connected.
    """
    data = LargestConnectedComponents()(data)
    _, y = np.unique(data.y.cpu().numpy(), return_inverse=True)
    data.y = torch.from_numpy(y.reshape(-1)).long().to(data.y.device)
    return data


_PER_CLASS = (20, 30)  # cpf training and validation nodes per class
_FRACTIONS = (0.6, 0.2)  # random training and validation shares


def _check_used(protocol: str, setting: str, has_masks: bool, split_rate: float | None,
                per_class: tuple[int, int], fractions: tuple[float, float]) -> None:
    r"""Refuses split arguments, given other than their defaults, that the protocol would
    ignore (a sweep over them would silently measure one split)."""
    planetoid_krd = protocol == "krd" and has_masks
    unused = [name for name, ignored in (
        ("split_rate", split_rate is not None and (setting != "inductive" or planetoid_krd)),
        ("train_per_class / val_per_class",
         per_class != _PER_CLASS and not (protocol == "cpf" or (protocol == "krd" and
                                                                 not has_masks))),
        ("fractions", protocol != "random" and fractions not in (_FRACTIONS, list(_FRACTIONS))),
    ) if ignored]
    if unused:
        raise GkdError(f"the {protocol} protocol ({setting}) does not use "
                       f"{', '.join(unused)}")


def make_node_task(data: Data, protocol: str = "cpf", *, setting: str = "transductive",
                   seed: int = 0, split_rate: float | None = None,
                   train_per_class: int = _PER_CLASS[0], val_per_class: int = _PER_CLASS[1],
                   fractions: tuple[float, float] = _FRACTIONS,
                   info: dict | None = None) -> NodeTask:
    r"""Builds the :class:`NodeTask` of :obj:`protocol` for one seed.

    Args:
        data (Data): a graph as returned by :func:`~gkd.data.load_dataset`.
        protocol (str, optional): ``"cpf"`` (largest connected component, per-class
            20/30 split, rest test, redrawn per seed), ``"public"`` / ``"ogb"`` (the
            dataset's official masks), ``"random"`` (:obj:`fractions`, per seed), or
            ``"krd"`` (KRD's protocol: on a graph with official masks,
            Planetoid's treatment: row-normalised features, the public split, and in the
            inductive setting the whole test set held out, every other unlabelled node
            ``test_tran``; otherwise the cpf split with a 10 % hold-out).
            (default: ``"cpf"``)
        setting (str, optional): ``"transductive"`` or ``"inductive"``.
            (default: ``"transductive"``)
        seed (int, optional): the split seed. (default: ``0``)
        split_rate (float, optional): inductive hold-out share of test. (default:
            ``None``: ``0.1`` under ``krd``, ``0.2`` otherwise)
        train_per_class (int, optional): cpf training nodes per class. (default: ``20``)
        val_per_class (int, optional): cpf validation nodes per class. (default: ``30``)
        fractions (tuple, optional): random train / val fractions. (default: ``(0.6, 0.2)``)
        info (dict, optional): descriptive fields for :attr:`NodeTask.info`, to which
            ``protocol`` is added (and ``features``, how they were transformed, when the
            protocol transforms them). (default: ``None``)

    Returns:
        NodeTask: the task.

    Raises:
        GkdError: a malformed graph (see :func:`check_graph`), a seed that is not a
            non-negative integer, an unknown protocol or setting, ``public`` / ``ogb`` on a
            graph without masks, a split the protocol cannot draw (too few nodes of a
            class, bad fractions, an empty inductive hold-out), split arguments given
            that the protocol and setting do not use (``split_rate`` outside the inductive
            setting or under ``krd`` with official masks, per-class counts outside
            ``cpf``, ``fractions`` outside ``random``), or split indices :class:`NodeTask`
            rejects (e.g. an empty split).
    """
    seed = check_seed(seed)
    info = dict(info or {}, protocol=protocol)
    check_graph(data, simple=False)  # NodeTask checks the structure of what it gets
    has_masks = getattr(data, "train_mask", None) is not None
    _check_used(protocol, setting, has_masks, split_rate, (train_per_class, val_per_class),
                fractions)
    if split_rate is None:
        split_rate = 0.1 if protocol == "krd" else 0.2
    if protocol == "krd" and has_masks:
        return _krd_planetoid_task(data, setting, seed, info)
    if protocol == "cpf" or protocol == "krd":  # krd without masks: the cpf split
        data = largest_connected_component(data)
        split = per_class_split(data.y, train_per_class, val_per_class, seed)
    elif protocol in ("public", "ogb"):
        if not has_masks:
            raise GkdError(f"protocol '{protocol}' needs a dataset with an official split "
                           f"(train/val/test masks); this one has none: use cpf or random")
        split = mask_split(*_official_masks(data), column=seed)
    elif protocol == "random":
        nodes = torch.arange(data.num_nodes)
        if getattr(data, "placeholder_mask", None) is not None:
            nodes = nodes[~data.placeholder_mask.cpu()]
        if not (isinstance(fractions, (tuple, list)) and len(fractions) == 2):
            raise GkdError(f"fractions are the (train, val) shares of the random protocol; "
                           f"got {fractions!r}")
        train, val, test = random_split(nodes.numel(), *fractions, seed=seed)
        split = nodes[train], nodes[val], nodes[test]
    else:
        raise GkdError(f"unknown protocol '{protocol}'; choose from {', '.join(PROTOCOLS)}")
    return NodeTask(data, *split, setting=setting, split_rate=split_rate, seed=seed, info=info)


def _krd_planetoid_task(data: Data, setting: str, seed: int, info: dict) -> NodeTask:
    data = NormalizeFeatures()(copy.copy(data))  # as DGL's pre-normalised Planetoid
    info = dict(info, features="row-normalised (torch_geometric.transforms.NormalizeFeatures)")
    train, val, test = mask_split(*_official_masks(data), column=seed)
    if setting == "transductive":
        return NodeTask(data, train, val, test, seed=seed, info=info)
    unlabelled = torch.ones(data.num_nodes, dtype=torch.bool, device=data.x.device)
    unlabelled[train] = unlabelled[val] = False
    if getattr(data, "placeholder_mask", None) is not None:
        unlabelled &= ~data.placeholder_mask
    return NodeTask(data, train, val, unlabelled.nonzero().view(-1), setting=setting,
                    seed=seed, held_out=test, info=info)


def default_protocol(dataset: str) -> str:
    r"""The split protocol a dataset is benchmarked under unless told otherwise: the
    official split (``ogb``) for ``ogbn-*`` datasets, GLNN's ``cpf`` for the others.

    Args:
        dataset (str): the dataset name (case-insensitive).

    Returns:
        str: ``"ogb"`` or ``"cpf"``.
    """
    return "ogb" if dataset.lower().startswith("ogbn-") else "cpf"


def dataset_for_protocol(dataset: str, protocol: str) -> str:
    r"""The registry name that :obj:`protocol` reads for :obj:`dataset`: the CPF npz
    copies for ``cpf`` on Cora and CiteSeer; the name itself otherwise. Also checks that
    ``public`` is asked of a Planetoid dataset, ``ogb`` of an ``ogbn-*`` one and ``krd``
    of another.

    Args:
        dataset (str): the dataset name (case-insensitive).
        protocol (str): the split protocol.

    Returns:
        str: the lower-cased name to pass to :func:`~gkd.data.load_dataset`.

    Raises:
        GkdError: ``public`` for a dataset that is not Planetoid, or ``ogb`` for one
            that is not ``ogbn-*``.
    """
    name = dataset.lower()
    if protocol == "public" and name not in PLANETOID:
        raise GkdError(f"protocol 'public' is the Planetoid split; '{dataset}' is not one of "
                       f"{', '.join(PLANETOID)}")
    if protocol == "ogb" and not name.startswith("ogbn-"):
        raise GkdError(f"protocol 'ogb' is the official OGB split; '{dataset}' is not ogbn-*")
    if protocol == "krd" and name.startswith("ogbn-"):
        raise GkdError(f"protocol 'krd' covers Planetoid and CPF-style datasets; use 'ogb' for "
                       f"'{dataset}'")
    return CPF_SOURCES.get(name, name) if protocol == "cpf" else name


def load_node_task(dataset: str, protocol: str = "cpf", *, setting: str = "transductive",
                   seed: int = 0, root: str | os.PathLike | None = None,
                   cache: str | os.PathLike | None = None, **kwargs: Any) -> NodeTask:
    r"""Loads :obj:`dataset` and builds its task.

    For ``cpf`` on Cora and CiteSeer the gnn-benchmark npz copies are read
    (:func:`dataset_for_protocol`); :attr:`NodeTask.info` names :obj:`dataset` and, as
    ``"source"``, the registry entry read.

    Args:
        dataset (str): a name :func:`~gkd.data.load_dataset` knows.
        protocol (str, optional): the split protocol (see :func:`make_node_task`).
            (default: ``"cpf"``)
        setting (str, optional): ``"transductive"`` or ``"inductive"``.
            (default: ``"transductive"``)
        seed (int, optional): the split seed. (default: ``0``)
        root (str or os.PathLike, optional): the data root. (default: ``$GKD_DATA_ROOT``
            or ``./datasets``)
        cache (str or os.PathLike, optional): the writable cache dir.
            (default: ``$GKD_CACHE_DIR`` or the user cache folder)
        **kwargs (optional): further arguments of :func:`make_node_task`
            (``split_rate``, ``train_per_class``, ``val_per_class``, ``fractions``).

    Returns:
        NodeTask: the task.

    Raises:
        GkdError: an unknown dataset or a protocol that does not fit it (see
            :func:`dataset_for_protocol`), or any error of :func:`make_node_task`.
        DatasetNotFoundError: the dataset's files are missing.
    """
    source = dataset_for_protocol(dataset, protocol)
    return make_node_task(load_dataset(source, root, cache), protocol, setting=setting,
                          seed=seed, info={"dataset": dataset, "source": source}, **kwargs)
