"""Training graph-level GNNs on a (real or distilled) set of graphs, selected and scored
on the real validation and test graphs of a task."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from gkd.config import merge_overrides
from gkd.data.graphsets import GraphSetTask
from gkd.errors import GkdError
from gkd.nn.graph_gnn import POOLS, GraphGNN
from gkd.ops.checks import check_count
from gkd.train import History, fit, optimizer_step

MODEL_DEFAULTS: dict[str, Any] = {"hidden_channels": 128, "dropout": 0.2, "pool": "sum",
                                  "heads": 4}
TRAIN_DEFAULTS: dict[str, Any] = {"lr": 1e-3, "weight_decay": 0.0, "batch_size": 32,
                                  "max_epochs": 100, "patience": 20, "eval_batch_size": 2048}


def graph_model_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""The graph model's options: :data:`MODEL_DEFAULTS` with checked overrides.

    Args:
        overrides (dict, optional): options to change. (default: ``None``)

    Returns:
        dict: ``hidden_channels``, ``dropout``, ``pool`` and ``heads``.

    Raises:
        GkdError: an unknown option, a value of the wrong kind or out of range
            (:func:`~gkd.config.check_option`), or an unknown ``pool``.
    """
    config = merge_overrides(MODEL_DEFAULTS, overrides or {}, "model")
    if config["pool"] not in tuple(POOLS):
        raise GkdError(f"unknown model.pool '{config['pool']}'; choose from {', '.join(POOLS)}")
    return config


def train_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""The training options: :data:`TRAIN_DEFAULTS` with checked overrides.

    Args:
        overrides (dict, optional): options to change. (default: ``None``)

    Returns:
        dict: ``lr``, ``weight_decay``, ``batch_size``, ``max_epochs``, ``patience`` and
        ``eval_batch_size``.

    Raises:
        GkdError: an unknown option, a value of the wrong kind or out of range
            (:func:`~gkd.config.check_option`).
    """
    return merge_overrides(TRAIN_DEFAULTS, overrides or {}, "train")


def build_graph_model(conv: str, task: GraphSetTask, num_layers: int,
                      config: dict[str, Any]) -> GraphGNN:
    r"""A :class:`~gkd.nn.graph_gnn.GraphGNN` sized for :obj:`task`: its feature size,
    edge feature size, atom features and number of classes.

    Args:
        conv (str): ``"gin"``, ``"gcn"`` or ``"gat"``.
        task (GraphSetTask): the task.
        num_layers (int): the number of convolutions.
        config (dict): model options (see :func:`graph_model_config`).

    Returns:
        GraphGNN: the untrained model.

    Raises:
        GkdError: an unknown :obj:`conv` or pooling, fewer than one layer, or for GAT
            ``hidden_channels`` not divisible by ``heads``.
    """
    return GraphGNN(task.num_features, config["hidden_channels"], task.num_classes,
                    num_layers, conv=conv, pool=config["pool"], dropout=config["dropout"],
                    edge_dim=task.edge_dim, atom_features=task.atom_features,
                    heads=config["heads"])


class EvalBatches:
    r"""A task's validation and test graphs, collated once into batches of
    :obj:`batch_size` graphs on :obj:`device` (scoring them every epoch then costs no
    collation or transfer). Models trained against them train on that device too
    (:func:`train_on_graphs`).

    Args:
        task (GraphSetTask): the task.
        batch_size (int, optional): graphs per batch. (default: ``2048``)
        device (str or torch.device, optional): where the batches live.
            (default: ``"cpu"``)

    Raises:
        GkdError: :obj:`batch_size` is not a positive integer.
    """

    def __init__(self, task: GraphSetTask, batch_size: int = 2048,
                 device: str | torch.device = "cpu") -> None:
        check_count(batch_size, "batch_size", minimum=1)
        self.task, self.device = task, torch.device(device)
        self.batches = {split: [Batch.from_data_list(chunk).to(self.device) for chunk in
                                _chunks(task.graphs(split), batch_size)]
                        for split in ("val", "test")}

    def logits(self, model: GraphGNN, split: str) -> tuple[Tensor, Tensor]:
        r"""The outputs of :obj:`model` on the graphs of :obj:`split`, as it stands (its
        mode and gradient tracking are the caller's).

        Args:
            model (GraphGNN): the model.
            split (str): ``"val"`` or ``"test"``.

        Returns:
            ``(logits, y)``: logits :math:`(G, C)` and classes :math:`(G)`.
        """
        outputs, labels = [], []
        for batch in self.batches[split]:
            outputs.append(_forward(model, batch))
            labels.append(batch.y.view(-1))
        return torch.cat(outputs), torch.cat(labels)

    def score(self, model: GraphGNN, split: str) -> dict[str, float]:
        r"""The task's metrics of :obj:`model` on :obj:`split` (see
        :meth:`~gkd.data.GraphSetTask.score`).

        Args:
            model (GraphGNN): the model.
            split (str): ``"val"`` or ``"test"``.

        Returns:
            dict[str, float]: the metrics in percent.
        """
        return self.task.score(*self.logits(model, split))


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _forward(model: GraphGNN, batch: Batch) -> Tensor:
    return model(batch.x, batch.edge_index, batch.batch, batch.get("edge_attr"),
                 root_mask=batch.get("root_mask"), num_graphs=batch.num_graphs)


def train_on_graphs(model: GraphGNN, graphs: Sequence[Data], evaluation: EvalBatches,
                    config: dict[str, Any], seed: int = 0) -> tuple[dict[str, float], History]:
    r"""Trains :obj:`model` on :obj:`graphs` with cross-entropy (Adam), keeps the epoch
    with the best validation metric of the task, and scores it, on the device of
    :obj:`evaluation` (the model is moved there; each training batch is moved as it is
    drawn).

    Args:
        model (GraphGNN): the model.
        graphs (Sequence[Data]): training graphs with a class ``y`` each (distilled
            graphs also carry a ``root_mask``: only roots are pooled).
        evaluation (EvalBatches): the real validation and test graphs.
        config (dict): :data:`TRAIN_DEFAULTS`-shaped options.
        seed (int, optional): seeds the batch order. (default: ``0``)

    Returns:
        ``{"val", "test"}`` in the task's headline metric (percent), with
        ``"val_acc"``/``"test_acc"`` beside ROC-AUC, and the training history.

    Raises:
        GkdError: no training graphs.
    """
    if len(graphs) == 0:
        raise GkdError("train_on_graphs needs at least one training graph")
    metric, device = evaluation.task.metric, evaluation.device
    model.to(device)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(list(graphs), batch_size=config["batch_size"], shuffle=True,
                        generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"],
                                 weight_decay=config["weight_decay"])

    def train_epoch() -> Tensor:
        weighted, count = [], 0
        for batch in loader:
            batch = batch.to(device)
            loss = F.cross_entropy(_forward(model, batch), batch.y.view(-1))
            weighted.append(optimizer_step(optimizer, loss) * batch.num_graphs)
            count += batch.num_graphs
        return torch.stack(weighted).sum() / count

    history = fit(model, train_epoch, lambda: evaluation.score(model, "val")[metric],
                  max_epochs=config["max_epochs"], patience=config["patience"])
    with torch.no_grad():
        scores = {split: evaluation.score(model, split) for split in ("val", "test")}
    out = {split: values[metric] for split, values in scores.items()}
    if metric != "acc":
        out.update({f"{split}_acc": values["acc"] for split, values in scores.items()})
    return out, history
