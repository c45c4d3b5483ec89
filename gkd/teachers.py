"""GNN teachers by name: default hyperparameters, construction and training.

A teacher's configuration is a flat dict of model arguments and training settings
(``lr``, ``weight_decay``, ``max_epochs``, ``patience``). Defaults follow the GLNN
reference configuration on the CPF datasets: ``sage`` is the reference's SAGE with DGL's
"gcn" aggregator (``aggr="gcn"``; ``aggr="mean"`` gives PyG's GraphSAGE with a root
weight, which scored lower on Cora's validation sets; on Cora the reference's dropout
and weight decay also gave the distilled student its best validation accuracy, see
``benchmarks/sweeps``). The
reference trains SAGE with neighbour sampling; gkd trains every teacher full-batch on a
sparse adjacency. ``gin`` is PyG's GIN with a fixed ε = 0 (GIN-0: a
two-layer MLP on the node plus the sum of its neighbours, in every layer).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.models import GCN, GIN

from gkd.config import merge_overrides
from gkd.data.tasks import NodeTask
from gkd.errors import GkdError, first_line
from gkd.evaluation import accuracy
from gkd.nn import APPNP, GAT, SAGE
from gkd.nn.sage import GCNAggregatorConv
from gkd.ops import CSRGraph, adjacency, sample_subgraph
from gkd.ops.checks import check_count
from gkd.train import History, fit, optimizer_step, split_batches

# batch_size and fanouts (one per layer, hop order) switch on sampled mini-batch training.
_TRAINING = {"lr": 0.01, "weight_decay": 5e-4, "max_epochs": 500, "patience": 50,
             "batch_size": None, "fanouts": None}
_MODEL = {"hidden_channels": 128, "num_layers": 2, "dropout": 0.0, "norm": None}
# The options that shape how a teacher trains, not the model it is.
TRAINING_OPTIONS = tuple(_TRAINING)

TEACHER_DEFAULTS: dict[str, dict[str, Any]] = {
    "gcn": {**_MODEL, **_TRAINING, "hidden_channels": 64, "dropout": 0.8, "weight_decay": 1e-3},
    "sage": {**_MODEL, **_TRAINING, "aggr": "gcn"},
    "gat": {**_MODEL, **_TRAINING, "heads": 8, "out_heads": 1, "dropout": 0.6,
            "input_dropout": 0.6, "attn_dropout": 0.3, "weight_decay": 1e-2},
    "appnp": {**_MODEL, **_TRAINING, "dropout": 0.5, "K": 10,
              "alpha": 0.1, "edge_dropout": 0.5, "weight_decay": 1e-2},
    "gin": {**_MODEL, **_TRAINING, "dropout": 0.8},
}

# GLNN's OGB teachers (3 layers, batch norm); other datasets use the defaults above.
_DATASET_DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("ogbn-arxiv", "sage"): {"num_layers": 3, "hidden_channels": 256, "dropout": 0.2,
                             "norm": "batch_norm", "weight_decay": 0.0},
    ("ogbn-products", "sage"): {"num_layers": 3, "hidden_channels": 256, "dropout": 0.5,
                                "norm": "batch_norm", "weight_decay": 0.0, "lr": 0.003,
                                "max_epochs": 40, "patience": 10},
}

_BUILDERS: dict[str, Callable[..., torch.nn.Module]] = {
    "gcn": lambda i, o, h, n, **kw: GCN(i, h, n, o, **kw),
    "sage": lambda i, o, h, n, **kw: SAGE(i, h, n, o, **kw),
    "gat": lambda i, o, h, n, **kw: GAT(i, h, n, o, **kw),
    "appnp": lambda i, o, h, n, **kw: APPNP(i, h, n, o, **kw),
    "gin": lambda i, o, h, n, **kw: GIN(i, h, n, o, **kw),
}
TEACHERS = tuple(TEACHER_DEFAULTS)


def teacher_config(name: str, dataset: str | None = None,
                   overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""The configuration of teacher :obj:`name` on :obj:`dataset` with
    :obj:`overrides` applied: :data:`TEACHER_DEFAULTS`, updated by the tuned defaults of
    the dataset and teacher (GLNN's OGB SAGE teachers), then by :obj:`overrides`
    (:func:`~gkd.config.merge_overrides`), and checked by :func:`check_sampling`.

    Args:
        name (str): the teacher: ``"gcn"``, ``"sage"``, ``"gat"``, ``"appnp"`` or
            ``"gin"``.
        dataset (str, optional): the dataset name, matched case-insensitively; ``None``
            or a dataset without tuned defaults gives the plain defaults.
            (default: ``None``)
        overrides (dict, optional): options to change; keys must be options of the
            teacher. (default: ``None``)

    Returns:
        dict: a new flat dict of model and training options.

    Raises:
        GkdError: an unknown :obj:`name`, an unknown option or a bad value in
            :obj:`overrides`, or sampling options that do not fit (see
            :func:`check_sampling`).
    """
    if name not in TEACHER_DEFAULTS:
        raise GkdError(f"unknown teacher '{name}'; choose from {', '.join(TEACHERS)}")
    tuned = _DATASET_DEFAULTS.get(((dataset or "").lower(), name), {})
    config = merge_overrides({**TEACHER_DEFAULTS[name], **tuned}, overrides or {},
                             f"teacher {name}")
    check_sampling(config, name == "appnp")
    return config


def build_teacher(name: str, in_channels: int, out_channels: int,
                  config: dict[str, Any]) -> torch.nn.Module:
    r"""Constructs teacher :obj:`name` from the model entries of :obj:`config`; its
    training entries (``lr``, ``weight_decay``, ``max_epochs``, ``patience``,
    ``batch_size``, ``fanouts``) are ignored.

    Args:
        name (str): the teacher: ``"gcn"``, ``"sage"``, ``"gat"``, ``"appnp"`` or
            ``"gin"``.
        in_channels (int): the node feature size.
        out_channels (int): the number of classes.
        config (dict): the teacher configuration, e.g. from :func:`teacher_config`; it
            must hold ``hidden_channels`` and ``num_layers``.

    Returns:
        torch.nn.Module: the untrained model, called as ``model(x, edge_index)`` with an
        ``edge_index`` or the sparse ``adj_t`` of :func:`~gkd.ops.adjacency`.

    Raises:
        GkdError: an unknown :obj:`name`, or :obj:`config` holds options that do not
            apply to the teacher.
    """
    foreign = sorted(set(config) - set(teacher_config(name)))
    if foreign:
        raise GkdError(f"option(s) {', '.join(foreign)} do not apply to teacher {name}")
    _require(config, ("hidden_channels", "num_layers"), f"teacher {name}")
    kwargs = {k: v for k, v in config.items() if k not in _TRAINING}
    hidden, layers = kwargs.pop("hidden_channels"), kwargs.pop("num_layers")
    return _BUILDERS[name](in_channels, out_channels, hidden, layers, **kwargs)


def _require(config: dict[str, Any], keys: Iterable[str], what: str) -> None:
    if missing := [key for key in keys if key not in config]:
        raise GkdError(f"the {what} configuration lacks {', '.join(missing)}; start from the "
                       f"full one of gkd.teacher_config")


def check_sampling(config: dict[str, Any], one_layer_propagation: bool = False) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless the sampled-training options of a
    teacher configuration fit: ``batch_size`` and ``fanouts`` both set or both ``None``,
    one integer fanout per layer, a positive batch size, and no sampling for a teacher
    that propagates several hops in one layer (APPNP). :func:`teacher_config` runs it, so
    a bad combination fails before anything trains.

    Args:
        config (dict): the teacher configuration.
        one_layer_propagation (bool, optional): the teacher propagates several hops in
            one layer. (default: ``False``)
    """
    batch_size, fanouts = config["batch_size"], config["fanouts"]
    if (batch_size is None) != (fanouts is None):
        raise GkdError("sampled teacher training needs both batch_size and fanouts")
    if fanouts is None:
        return
    if one_layer_propagation:
        raise GkdError("sampled training needs one hop per layer; teacher appnp propagates "
                       "K hops in one layer: train it full-batch")
    if (not isinstance(fanouts, list) or len(fanouts) != config["num_layers"]
            or not all(isinstance(f, int) and not isinstance(f, bool) for f in fanouts)):
        raise GkdError(f"fanouts must list one integer per layer ({config['num_layers']}); "
                       f"got {fanouts!r}")
    check_count(batch_size, "batch_size", minimum=1)


def check_aggregation_device(config: dict[str, Any], device: torch.device) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` if :obj:`config` asks for a max or min
    aggregation (``aggr``) on a device other than the CPU: the teachers run on a sparse
    adjacency, and PyG's sparse product has max and min reductions on the CPU only.

    Args:
        config (dict): a teacher configuration.
        device (torch.device): where the model will run.
    """
    aggr = config.get("aggr")
    if aggr in ("max", "min") and device.type != "cpu":
        raise GkdError(f"aggr={aggr} needs the CPU: PyG's sparse product has no {aggr} "
                       f"reduction on {device.type}; use aggr=mean, sum or gcn")


def train_teacher(model: torch.nn.Module, task: NodeTask, config: dict[str, Any]) -> History:
    r"""Trains :obj:`model` with cross-entropy on the training nodes of the observed graph,
    selecting the epoch of best validation accuracy (full-graph inference).

    Full-batch by default. With ``batch_size`` and ``fanouts`` in :obj:`config`, each
    step instead runs on the sampled computation graph of a mini-batch of training nodes
    (``fanouts[l]`` distinct in-neighbours per node at hop :math:`l+1`, GraphSAGE-style,
    via :func:`gkd.ops.sample_subgraph`), for graphs too large for full-batch training.
    A last batch of one training node joins the one before. GCN normalises by the
    degrees within the sampled subgraph, as with PyG's ``NeighborLoader``, which differs
    from the full graph's even when every neighbour is kept (SAGE and GAT then match it
    exactly).

    Args:
        model (torch.nn.Module): the teacher, called as ``model(x, adj)`` with the sparse
            ``adj_t`` of :func:`~gkd.ops.adjacency`; trained in place, with the state of
            the best epoch restored and left in eval mode.
        task (NodeTask): the task; only its observed graph is used.
        config (dict): the teacher configuration; its ``lr``, ``weight_decay``,
            ``max_epochs``, ``patience``, ``batch_size`` and ``fanouts`` entries are read
            (the fanouts checked against ``num_layers``).

    Returns:
        History: what the training run did.

    Raises:
        GkdError: :obj:`config` lacks a training option (or ``num_layers`` with
            ``fanouts``), :obj:`model` declares sizes other than the task's, the sampling
            options do not fit (see :func:`check_sampling`), or a max or min aggregation
            is asked of a task on a GPU.
    """
    _require(config, TRAINING_OPTIONS, "teacher training")
    if config["fanouts"] is not None:
        _require(config, ("num_layers",), "sampled teacher training")
    task.check_model(model, "teacher")
    check_sampling(config, isinstance(model, APPNP))
    check_aggregation_device(config, task.graph.x.device)
    graph = task.graph
    adj = adjacency(graph.edge_index, graph.num_nodes)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"],
                                 weight_decay=config["weight_decay"])
    train_y, val_y = graph.y[task.train_idx], graph.y[task.val_idx]

    def full_batch_epoch() -> Tensor:
        loss = F.cross_entropy(call_teacher(model, graph.x, adj, "train_teacher")[task.train_idx],
                               train_y)
        return optimizer_step(optimizer, loss)

    def sampled_epoch(csr: CSRGraph) -> Tensor:
        seeds = task.train_idx[torch.randperm(task.train_idx.numel(),
                                              device=task.train_idx.device)]
        losses = []
        for batch in split_batches(seeds, config["batch_size"]):
            nodes, edge_index = sample_subgraph(csr, batch, config["fanouts"])
            out = call_teacher(model, graph.x[nodes], adjacency(edge_index, nodes.numel()),
                               "train_teacher")
            loss = F.cross_entropy(out[:batch.numel()], graph.y[batch])
            losses.append(optimizer_step(optimizer, loss))
        return torch.stack(losses).mean()

    def validate() -> float:
        return accuracy(call_teacher(model, graph.x, adj, "train_teacher")[task.val_idx], val_y)

    train_epoch: Callable[[], Tensor] = full_batch_epoch
    if config["fanouts"] is not None:
        train_epoch = partial(sampled_epoch, CSRGraph.from_edge_index(graph.edge_index,
                                                                      graph.num_nodes))
    with input_aggregation_cache(model):
        return fit(model, train_epoch, validate, max_epochs=config["max_epochs"],
                   patience=config["patience"])


def call_teacher(model: torch.nn.Module, x: Tensor, adj: Tensor, caller: str) -> Tensor:
    r"""Calls :obj:`model` as gkd calls every node teacher, ``model(x, adj)`` with the
    sparse ``adj_t`` of :func:`~gkd.ops.adjacency`, and checks that it returned logits.

    Args:
        model (torch.nn.Module): the teacher.
        x (Tensor): node features :math:`(N, F)`.
        adj (Tensor): the sparse adjacency of the same nodes.
        caller (str): what calls the teacher, for the message (e.g. ``"krd"``).

    Returns:
        Tensor: the logits :math:`(N, C)`.

    Raises:
        GkdError: a teacher not of gkd's own raises a :class:`RuntimeError` other than
            running out of GPU memory, a :class:`TypeError`, :class:`IndexError` or
            :class:`NotImplementedError` on the sparse adjacency (which not every PyG layer
            or model takes), or the output is not a tensor of one row per node.
    """
    try:
        logits = model(x, adj)
    except torch.cuda.OutOfMemoryError:
        raise
    except (RuntimeError, TypeError, IndexError, NotImplementedError) as error:
        if type(model).__module__.startswith("gkd."):
            raise  # gkd's teachers take adj: a failure there is no contract problem
        raise GkdError(f"{caller} calls the teacher as model(x, adj), with adj the sparse "
                       f"adjacency of gkd.ops.adjacency (which not every PyG layer or model "
                       f"takes), and this teacher failed on it: {first_line(error)}") from error
    if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.size(0) != x.size(0):
        got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise GkdError(f"the teacher must return one tensor of logits (N, C); for {x.size(0)} "
                       f"nodes it returned {got}")
    return logits


@contextmanager
def input_aggregation_cache(model: torch.nn.Module) -> Iterator[None]:
    r"""Within the block, the first :class:`~gkd.nn.GCNAggregatorConv` of :obj:`model`
    (if any), which sees the same fixed features every full-batch epoch, aggregates
    them once (:meth:`~gkd.nn.GCNAggregatorConv.set_input_cache`)."""
    first = next((m for m in model.modules() if isinstance(m, GCNAggregatorConv)), None)
    if first is not None:
        first.set_input_cache(True)
    try:
        yield
    finally:
        if first is not None:
            first.set_input_cache(False)
