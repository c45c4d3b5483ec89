r"""VQGraph's tokenizer teacher by teacher kind: options, construction, training and
knowledge.

A tokenizer's configuration is the configuration of its backbone teacher
(:func:`gkd.teachers.teacher_config`: model and training options) plus
:data:`TOKENIZER_DEFAULTS`, one flat dict; on the command line both are ``teacher.*``
options of ``gkd distill --method vqgraph``. The backbone, with its ``num_layers``, is
the encoder into the :math:`D`-dimensional code space, and one more layer of the same
kind is the classification head.
"""
from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.config import check_config, merge_overrides
from gkd.data.tasks import NodeTask
from gkd.errors import GkdError
from gkd.evaluation import accuracy
from gkd.knowledge import Knowledge, cached_knowledge
from gkd.nn import GraphTokenizer, VectorQuantizer
from gkd.nn.vq import SIMILARITIES
from gkd.ops import CSRGraph, adjacency, sample_non_edges
from gkd.teachers import (
    build_teacher,
    check_aggregation_device,
    input_aggregation_cache,
    teacher_config,
)
from gkd.train import History, fit, optimizer_step

#: The tokenizer's own options, added to its backbone teacher's. Chosen on validation
#: accuracy only (CPF, SAGE): the feature weight on Cora's distilled student (seeds 0-3,
#: against 0 and 1); dead-code revival because without it the codebook collapsed on
#: a-computer (perplexity 9 of 512, tokenizer 78 % against SAGE's 89 % on seed 0's
#: validation set; revival: 223 and 89 %), while on CiteSeer it made no difference and on
#: Cora the student lost 1.2 points, within the noise of 4 seeds.
TOKENIZER_DEFAULTS: dict[str, Any] = {
    "num_codes": 512,  # codebook size M
    "code_dim": 64,  # code space width D (the encoder's output)
    "similarity": "cosine",  # "cosine" or "euclidean"
    "ema": True,  # EMA codebook updates (else a learned codebook)
    "decay": 0.8,  # EMA decay
    "commitment_weight": 0.25,
    "kmeans_init": True,  # k-means codebook from the first epoch's embeddings
    "dead_code_threshold": 1.0,  # revive codes whose EMA count falls below; 0: off
    "feature_weight": 10.0,  # weight of the feature reconstruction (MSE)
    "edge_weight": 1.0,  # weight of the edge reconstruction (BCE, sampled non-edges)
}

#: Per-dataset changes to :data:`TOKENIZER_DEFAULTS`, chosen like them. On the Amazon graphs
#: the feature reconstruction cost the student validation accuracy in both settings (10
#: seeds: a-computer 2.0 and 1.6 points, a-photo 0.5; see benchmarks/results/vqgraph).
_NO_FEATURE_LOSS = {"feature_weight": 0.0}
_DATASET_DEFAULTS: dict[str, dict[str, Any]] = {"a-computer": _NO_FEATURE_LOSS,
                                                 "a-photo": _NO_FEATURE_LOSS}


def tokenizer_config(teacher: str, dataset: str | None = None,
                     overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""The configuration of the tokenizer on backbone :obj:`teacher` for :obj:`dataset`:
    the teacher's (:func:`~gkd.teachers.teacher_config`) plus :data:`TOKENIZER_DEFAULTS`,
    with :obj:`overrides` applied and checked (a :class:`~gkd.errors.GkdError` names a
    bad one)."""
    config = {**teacher_config(teacher, dataset), **TOKENIZER_DEFAULTS,
              **_DATASET_DEFAULTS.get((dataset or "").lower(), {})}
    config = merge_overrides(config, overrides or {}, f"teacher {teacher}")
    _check(config)
    return config


def _check(config: dict[str, Any]) -> None:
    if config["batch_size"] is not None or config["fanouts"] is not None:
        raise GkdError("the vqgraph tokenizer trains full-batch: leave teacher.batch_size "
                       "and teacher.fanouts unset")
    if config["similarity"] not in SIMILARITIES:
        raise GkdError(f"teacher similarity must be one of {', '.join(SIMILARITIES)}; "
                       f"got {config['similarity']!r}")


def build_tokenizer(teacher: str, in_channels: int, out_channels: int,
                    config: dict[str, Any]) -> GraphTokenizer:
    r"""A :class:`~gkd.nn.GraphTokenizer` on backbone :obj:`teacher`: the encoder is the
    teacher from :obj:`in_channels` to ``code_dim``, the head one layer of the same kind
    from ``code_dim`` to :obj:`out_channels`, the quantiser a
    :class:`~gkd.nn.VectorQuantizer` with the options of :obj:`config`."""
    backbone = {key: config[key] for key in teacher_config(teacher)}
    code_dim = config["code_dim"]
    encoder = build_teacher(teacher, in_channels, code_dim, backbone)
    head = build_teacher(teacher, code_dim, out_channels, {**backbone, "num_layers": 1})
    quantizer = VectorQuantizer(
        config["num_codes"], code_dim, similarity=config["similarity"], ema=config["ema"],
        decay=config["decay"], commitment_weight=config["commitment_weight"],
        kmeans_init=config["kmeans_init"], dead_code_threshold=config["dead_code_threshold"])
    return GraphTokenizer(encoder, quantizer, head, in_channels, dropout=backbone["dropout"])


def train_tokenizer(model: GraphTokenizer, task: NodeTask, config: dict[str, Any]) -> History:
    r"""Trains :obj:`model` full-batch on the task's observed graph, minimising

    .. math::
        \mathrm{CE}(V_L) + \lambda_{feat}\,\mathrm{MSE}(\hat{\mathbf{X}}, \mathbf{X})
        + \lambda_{edge}\,\mathrm{BCE}(E \cup \bar{E}) + \mathcal{L}_{VQ},

    with the cross-entropy on the training nodes, every undirected edge :math:`E` once
    against as many non-edges :math:`\bar{E}` drawn afresh each epoch
    (:func:`~gkd.ops.sample_non_edges`; no edge term on a graph without edges), and the
    quantiser's commitment (and codebook) loss; selects the epoch of best validation
    accuracy of the head.
    """
    graph = task.graph
    check_aggregation_device(config, graph.x.device)
    adj = adjacency(graph.edge_index, graph.num_nodes)
    csr = CSRGraph.from_edge_index(graph.edge_index, graph.num_nodes)
    edges = graph.edge_index[:, graph.edge_index[0] < graph.edge_index[1]]
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"],
                                 weight_decay=config["weight_decay"])
    train_y, val_y = graph.y[task.train_idx], graph.y[task.val_idx]

    def train_epoch() -> Tensor:
        out = model.encode(graph.x, adj)
        loss = F.cross_entropy(out.logits[task.train_idx], train_y) + out.vq.loss
        if config["feature_weight"] > 0:
            loss = loss + config["feature_weight"] * model.feature_loss(out, graph.x)
        if config["edge_weight"] > 0 and edges.size(1) > 0:  # an edgeless graph: no term
            non_edges = sample_non_edges(csr, edges.size(1))
            loss = loss + config["edge_weight"] * model.edge_loss(out, edges, non_edges)
        return optimizer_step(optimizer, loss)

    def validate() -> float:
        return accuracy(model(graph.x, adj)[task.val_idx], val_y)

    with input_aggregation_cache(model):
        return fit(model, train_epoch, validate, max_epochs=config["max_epochs"],
                   patience=config["patience"])


def tokenizer_knowledge(task: NodeTask, teacher: str, config: dict[str, Any], *,
                        cache: str | os.PathLike | None = None,
                        use_cache: bool = True) -> Knowledge:
    r"""The knowledge of the tokenizer on backbone :obj:`teacher` trained on :obj:`task`
    (cached like :func:`~gkd.knowledge.teacher_knowledge`, keyed by the full
    :obj:`config` from :func:`tokenizer_config`).

    It holds the head's logits, the quantiser's inputs as
    :attr:`~gkd.knowledge.Knowledge.embeddings`, the codebook and its similarity, all
    on the observed graph in eval mode, so that
    :meth:`~gkd.knowledge.Knowledge.code_assignments` gives the soft code assignments
    at any temperature. ``meta["codebook"]`` holds ``num_codes``, ``perplexity`` and
    ``dead_fraction`` of the nodes' codes (:func:`~gkd.nn.codebook_usage`).

    Raises:
        GkdError: :obj:`config` misses options of the tokenizer, holds options that do
            not apply to it, or holds values out of range.
    """
    check_config(config, tokenizer_config(teacher), f"teacher {teacher}")
    _check(config)
    graph = task.graph

    def extract(model: GraphTokenizer) -> Knowledge:
        model.eval()
        with torch.no_grad():  # not inference mode: the codebook is used in autograd later
            out = model.encode(graph.x, adjacency(graph.edge_index, graph.num_nodes))
        quantizer = model.quantizer
        usage = {"num_codes": quantizer.num_codes, **quantizer.usage(out.vq.indices)}
        return Knowledge(out.logits, out.embedding, {"codebook": usage},
                         codebook=quantizer.codebook.detach().clone(),
                         similarity=quantizer.similarity)

    return cached_knowledge(
        task, teacher, config,
        build=lambda: build_tokenizer(teacher, task.num_features, task.num_classes, config),
        train=lambda model: train_tokenizer(model, task, config), extract=extract,
        cache=cache, use_cache=use_cache)
