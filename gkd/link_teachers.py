"""GNN link-prediction teachers: configuration, construction, training and their
knowledge (node embeddings and decoder), cached per task, teacher and seed.

The defaults follow the LLP reference teacher: a 2-layer encoder of width 256 with
dropout 0.5 (GraphSAGE with PyG's mean aggregation and root weight, or GCN), a
Hadamard-product MLP decoder, binary cross-entropy against one sampled non-edge per
training edge, Adam (lr 0.005, 0.001 on the Amazon graphs), edge batches of 65,536,
gradient-norm clip 1.0, early stopping after 100 epochs without a validation Hits@K gain
(``select_k``, when set, is the :math:`K` of that selection Hits@K; see :func:`selection_k`).
With ``disjoint_ratio`` set, every epoch takes that share of the training edges as its
targets and passes messages over the others only, so that the encoder never sees the edge
it is asked about, as it never sees a held-out one (the per-epoch form of PyG's
``RandomLinkSplit(disjoint_train_ratio=...)``); unset, every training edge is a target and
a message edge at once, as in the LLP reference.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from gkd.config import check_config, merge_overrides
from gkd.data.datasets import cache_dir
from gkd.data.links import LinkTask
from gkd.errors import GkdError
from gkd.io import cache_lock, load_cached, load_torch, save_torch
from gkd.knowledge import cache_key, check_cached_meta, parameter_count
from gkd.link_evaluation import evaluate_links, hits_at_k
from gkd.nn.link_predictor import LinkPredictor
from gkd.ops import CSRGraph, adjacency, sample_non_edges
from gkd.ops.checks import check_count
from gkd.teachers import build_teacher, check_aggregation_device, teacher_config
from gkd.train import History, fit, global_rng_preserved, optimizer_step

LINK_TEACHERS = ("sage", "gcn")
FORMAT = 2  # bump when the meaning of a cached link teacher changes

_LINK_TRAINING = {"lr": 0.005, "weight_decay": 0.0, "max_epochs": 1000, "patience": 100,
                  "edge_batch_size": 65536, "grad_clip": 1.0, "hits_k": 20,
                  "select_k": None, "disjoint_ratio": None}
# The options that shape how a link teacher trains and is selected, not the model it is.
LINK_TRAINING_OPTIONS = tuple(_LINK_TRAINING)
_LINK_MODEL = {"hidden_channels": 256, "num_layers": 2, "dropout": 0.5, "decoder_layers": 2}
_ENCODER_EXTRA = {"sage": {"aggr": "mean"}, "gcn": {}}
_DATASET_DEFAULTS = {"a-photo": {"lr": 0.001}, "a-computer": {"lr": 0.001}}


def link_teacher_config(name: str, dataset: str | None = None,
                        overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""The configuration of link teacher :obj:`name` on :obj:`dataset` with
    :obj:`overrides` applied.

    Args:
        name (str): ``"sage"`` or ``"gcn"``.
        dataset (str, optional): the dataset whose defaults apply (the Amazon graphs train
            with lr 0.001). (default: ``None``, the general defaults)
        overrides (dict, optional): options to change. (default: ``None``)

    Returns:
        dict: the model options (``hidden_channels``, ``num_layers``, ``dropout``,
        ``decoder_layers``, ``norm``, the encoder's own) and the training options
        (:data:`LINK_TRAINING_OPTIONS`).

    Raises:
        GkdError: :obj:`name` is unknown, an override names an unknown option,
            an option is out of its range (:func:`~gkd.config.check_option`: e.g.
            ``disjoint_ratio`` ``None`` or in :math:`(0, 1)`), or ``hits_k`` / ``select_k``
            is not a positive count.
    """
    if name not in LINK_TEACHERS:
        raise GkdError(f"unknown link teacher '{name}'; choose from {', '.join(LINK_TEACHERS)}")
    config: dict[str, Any] = {**_LINK_MODEL, **_ENCODER_EXTRA[name], "norm": None,
                              **_LINK_TRAINING,
                              **_DATASET_DEFAULTS.get((dataset or "").lower(), {})}
    config = merge_overrides(config, overrides or {}, f"link teacher {name}")
    selection_k(config["hits_k"], config["select_k"])
    return config


def build_link_teacher(name: str, in_channels: int, config: dict[str, Any]) -> LinkPredictor:
    r"""A GNN encoder (a node teacher of :mod:`gkd.teachers` whose output is the
    embedding) with a Hadamard decoder."""
    node_options = set(teacher_config(name))
    encoder_config = {k: v for k, v in config.items() if k in node_options}
    hidden = config["hidden_channels"]
    encoder = build_teacher(name, in_channels, hidden, encoder_config)
    return LinkPredictor(encoder, hidden, config["decoder_layers"], config["dropout"])


def link_loss(logits: Tensor, num_pos: int) -> Tensor:
    r"""Binary cross-entropy of pair logits whose first :obj:`num_pos` entries are edges
    and the rest non-edges."""
    labels = torch.zeros_like(logits)
    labels[:num_pos] = 1.0
    return F.binary_cross_entropy_with_logits(logits, labels)


def selection_k(hits_k: int, select_k: int | None) -> int:
    r"""The :math:`K` of the validation Hits@K that selects the epoch: :obj:`select_k`,
    or the reported :obj:`hits_k` when it is ``None``.

    Hits@K thresholds at the :math:`K`-th best of the negatives, so with a validation pool
    a third the size of the test pool (5 % against 15 % of the edges) validation Hits@20
    measures a three times coarser quantile than test Hits@20; ``select_k=7`` ranks
    validation positives against the same top 3 % of negatives as test Hits@20 does.
    """
    given = {"hits_k": hits_k} if select_k is None else {"hits_k": hits_k, "select_k": select_k}
    for name, value in given.items():
        check_count(value, name, minimum=1)
    return hits_k if select_k is None else select_k


def validation_hits(h: Tensor, model: LinkPredictor, task: LinkTask, k: int) -> float:
    r"""Hits@K in percent of :obj:`model`'s decoder on the validation pairs, from node
    embeddings :obj:`h` of the observed graph."""
    return 100.0 * hits_at_k(model.score(h, task.val.pos), model.score(h, task.val.neg), k)


def _disjoint_targets(pos: Tensor, num_nodes: int, ratio: float) -> tuple[Tensor, Tensor]:
    r"""Splits shuffled training edges :obj:`pos` into the first :obj:`ratio` share, the
    epoch's supervision targets, and the rest, whose both directions form the epoch's
    message-passing adjacency, so that no target edge is visible to its own encoding."""
    num_targets = max(1, round(ratio * pos.size(1)))
    targets, message = pos[:, :num_targets], pos[:, num_targets:]
    return targets, adjacency(to_undirected(message, num_nodes=num_nodes), num_nodes)


def train_link_teacher(model: LinkPredictor, task: LinkTask, config: dict[str, Any]) -> History:
    r"""Trains :obj:`model` on the observed graph: every step encodes the whole graph and
    takes binary cross-entropy on a batch of training edges and as many sampled non-edges
    of the observed graph; the epoch of best validation Hits@K is restored."""
    graph = task.graph
    check_aggregation_device(config, graph.x.device)
    adj = adjacency(graph.edge_index, graph.num_nodes)
    k = selection_k(config["hits_k"], config["select_k"])
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"],
                                 weight_decay=config["weight_decay"])

    def train_epoch() -> Tensor:
        pos = task.train_pos[:, torch.randperm(task.train_pos.size(1), device=task.device)]
        message_adj = adj
        if config["disjoint_ratio"] is not None:
            pos, message_adj = _disjoint_targets(pos, graph.num_nodes, config["disjoint_ratio"])
        losses = []
        for batch in pos.split(config["edge_batch_size"], dim=1):
            pairs = torch.cat([batch, sample_non_edges(csr, batch.size(1))], dim=1)
            loss = link_loss(model(graph.x, message_adj, pairs), batch.size(1))
            losses.append(optimizer_step(optimizer, loss, config["grad_clip"]))
        return torch.stack(losses).mean()

    def validate() -> float:
        return validation_hits(model.encode(graph.x, adj), model, task, k)

    return fit(model, train_epoch, validate, max_epochs=config["max_epochs"],
               patience=config["patience"])


def embed_graph(model: LinkPredictor, graph: Data) -> Tensor:
    r"""The node embeddings of :obj:`graph` by :obj:`model`'s encoder (a graph-free one
    reads the features only)."""
    if model.graph_free:
        return model.encode(graph.x)
    return model.encode(graph.x, adjacency(graph.edge_index, graph.num_nodes))


@dataclass
class LinkKnowledge:
    r"""A trained link teacher's view of a task's observed graph.

    Args:
        embeddings (Tensor): node embeddings :math:`(N_{obs}, D)` on the observed graph,
            in eval mode.
        model (LinkPredictor): the trained teacher (put in eval mode).
        meta (dict, optional): ``name``, ``config``, ``metrics`` (Hits@K in percent),
            ``epoch``, ``params``, ``seconds``, ``cached``, the training ``seed`` and the
            ``fingerprint`` of the task it was trained on.
    """

    embeddings: Tensor
    model: LinkPredictor = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.embeddings = self.embeddings.detach()  # targets: no gradient to the teacher
        self.model.eval()  # its decoder scores the targets: no dropout

    def score(self, pairs: Tensor) -> Tensor:
        r"""The teacher's logits of node pairs :math:`(2, ...)` of the observed graph, of
        shape ``pairs.shape[1:]``."""
        with torch.no_grad():
            logits = self.model.score(self.embeddings, pairs.reshape(2, -1))
        return logits.view(pairs.shape[1:])


def cached_link_model(task: LinkTask, name: str, config: dict[str, Any], *, seed: int,
                      build: Callable[[], LinkPredictor],
                      train: Callable[[LinkPredictor], History], folder: str,
                      cache: str | os.PathLike | None = None,
                      use_cache: bool = True) -> tuple[LinkPredictor, dict[str, Any]]:
    r"""A link predictor trained on :obj:`task`, from the cache when present: seeded
    with :obj:`seed`, built, trained in place with validation selection and scored on
    every evaluation set. The weights and the metadata (``metrics`` in Hits@K percent,
    ``epoch``, ``params``, ``seconds``) are stored under ``<cache dir>/<folder>/<key>.pt``,
    keyed by the task's content, :obj:`seed`, :obj:`name` and :obj:`config`; a concurrent
    process wanting the same model waits for this one and loads it
    (:func:`~gkd.io.cache_lock`); the global random states are left as they were
    (:func:`~gkd.train.global_rng_preserved`). Returns the model in eval mode and its metadata, with
    ``fingerprint`` (the task's :meth:`~gkd.data.LinkTask.fingerprint`) and ``cached``
    (whether it came from the cache). An entry that cannot be loaded, or that was trained
    on another task, is trained again, with a warning, and replaced.
    """
    # select_k equal to hits_k selects as None does: one model serves both
    keyed = {**config, "select_k": selection_k(config["hits_k"], config["select_k"])}
    fingerprint = task.fingerprint()
    key = cache_key(fingerprint, seed, name, keyed, FORMAT)
    path = cache_dir(cache) / folder / f"{key}.pt"
    with cache_lock(path, use_cache), global_rng_preserved():
        torch.manual_seed(seed)
        model = build().to(task.device)
        if use_cache and path.is_file():
            def load() -> dict[str, Any]:
                saved = load_torch(path)
                model.load_state_dict(saved["state"])
                meta = json.loads(saved["meta"])
                check_cached_meta(meta, ["val", *task.tests])
                if meta.get("fingerprint") != fingerprint:
                    raise ValueError("it was trained on another task")
                return meta

            meta = load_cached(path, load)
            if meta is not None:
                return model.eval(), {**meta, "cached": True}
            torch.manual_seed(seed)  # a fresh model: loading may have filled this one
            model = build().to(task.device)
        start = time.perf_counter()
        history = train(model)
        metrics = evaluate_links(task, lambda g: embed_graph(model, g), model.score,
                                 config["hits_k"])
        meta = {"name": name, "config": config, "metrics": metrics,
                "epoch": history.best_epoch, "params": parameter_count(model),
                "seconds": round(time.perf_counter() - start, 3), "fingerprint": fingerprint}
        if use_cache:
            state = {k: v.cpu() for k, v in model.state_dict().items()}
            save_torch(path, {"state": state, "meta": json.dumps(meta)})
    return model.eval(), {**meta, "cached": False}


def best_link_teacher(task: LinkTask, teacher: str, config: dict[str, Any],
                      seeds: Iterable[int], *, cache: str | os.PathLike | None = None,
                      use_cache: bool = True) -> LinkKnowledge:
    r"""The knowledge of the link teacher with the best validation Hits@K, the :math:`K`
    that selects epochs (:func:`selection_k`), among those trained with :obj:`seeds` (the
    first of them on a tie), as the LLP paper picks the one teacher all its students learn
    from. Each is trained or loaded as by :func:`link_teacher_knowledge`; the chosen one's
    ``meta["selection"]`` holds that ``k`` and its validation Hits@K ``val``."""
    k = selection_k(config["hits_k"], config["select_k"])
    best, best_val = None, -1.0
    for seed in seeds:
        knowledge = link_teacher_knowledge(task, teacher, config, seed=seed, cache=cache,
                                           use_cache=use_cache)
        with torch.no_grad():
            val = validation_hits(knowledge.embeddings, knowledge.model, task, k)
        if val > best_val:
            best, best_val = knowledge, val
    if best is None:
        raise GkdError("best_link_teacher needs at least one seed")
    best.meta["selection"] = {"k": k, "val": best_val}
    return best


def link_teacher_knowledge(task: LinkTask, teacher: str, config: dict[str, Any], *,
                           seed: int = 0, cache: str | os.PathLike | None = None,
                           use_cache: bool = True) -> LinkKnowledge:
    r"""The knowledge of link teacher :obj:`teacher` trained on :obj:`task` with seed
    :obj:`seed` (:func:`cached_link_model`, under ``link-teachers``), with its
    embeddings of the observed graph, so every student of a seed shares one teacher.

    Args:
        task (LinkTask): the split; the teacher trains on its observed graph.
        teacher (str): ``"sage"`` or ``"gcn"``.
        config (dict): the full configuration, as :func:`link_teacher_config` returns it.
        seed (int, optional): the training seed. (default: ``0``)
        cache (str or os.PathLike, optional): the cache dir. (default: ``None``,
            :func:`~gkd.data.datasets.cache_dir`)
        use_cache (bool, optional): load a cached teacher and store a trained one.
            (default: ``True``)

    Returns:
        LinkKnowledge: the trained teacher in eval mode, its embeddings of the observed
        graph and its metadata.

    Raises:
        GkdError: :obj:`config` does not hold exactly the options of
            :func:`link_teacher_config` with values in range.
    """
    check_config(config, link_teacher_config(teacher), f"link teacher {teacher}")
    model, meta = cached_link_model(
        task, teacher, config, seed=seed,
        build=lambda: build_link_teacher(teacher, task.num_features, config),
        train=lambda m: train_link_teacher(m, task, config), folder="link-teachers",
        cache=cache, use_cache=use_cache)
    with torch.no_grad():
        embeddings = embed_graph(model, task.graph)
    return LinkKnowledge(embeddings, model, {**meta, "seed": seed})
