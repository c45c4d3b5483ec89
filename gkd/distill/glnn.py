"""GLNN: soft-label distillation from a GNN into an MLP."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.data.tasks import NodeTask
from gkd.distill.base import Distiller, check_student, validation_accuracy
from gkd.errors import GkdError
from gkd.knowledge import Knowledge
from gkd.losses import kl_divergence, masked_cross_entropy
from gkd.train import History, fit, optimizer_step

SCHEDULES = ("combined", "two-pass")


@dataclass(kw_only=True)
class GLNN(Distiller):
    r"""Graph-less Neural Networks ("Graph-less Neural Networks: Teaching Old MLPs New
    Tricks via Distillation", Zhang et al., ICLR 2022).

    The MLP student minimises

    .. math::
        \lambda \cdot \frac{1}{|V_L|}\sum_{v \in V_L} \mathrm{CE}(q_v, y_v) +
        (1-\lambda) \cdot \frac{1}{|V_{KD}|}\sum_{v \in V_{KD}}
        \tau^2\,\mathrm{KL}(p^T_v \,\|\, q_v)

    over the labelled nodes :math:`V_L` and the distillation nodes :math:`V_{KD}` (every
    node of the observed graph), with mini-batches and validation early stopping.
    With :obj:`lamb` = 1 this is a plain supervised MLP and no knowledge is needed.

    Every option is keyword-only; the training options of
    :class:`~gkd.distill.base.Distiller` (``lr``, ``weight_decay``, ``batch_size``,
    ``max_epochs``, ``patience``) apply too.

    Args:
        lamb (float, optional): weight :math:`\lambda` of the label loss; the GLNN
            reference runs all use 0. (default: ``0.0``)
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
        schedule (str, optional): ``"combined"``: one optimiser step per mini-batch of
            :math:`V_{KD}` on the weighted sum (the label term over the batch's labelled
            nodes); ``"two-pass"``: the reference's epoch of a label pass then a separate
            KD pass, each dropping the last partial batch, with a step even on a zero
            loss. (default: ``"combined"``)
    """

    lamb: float = 0.0
    temperature: float = 1.0
    schedule: str = "combined"

    name: ClassVar[str] = "glnn"
    # The reference configuration, except Cora: dropout and weight decay chosen on the mean
    # validation accuracy of both settings (benchmarks/sweeps/student_regularisation_cora_*).
    dataset_defaults: ClassVar = {
        "cora": ({"dropout": 0.8}, {"lr": 0.01, "weight_decay": 5e-4}),
        "citeseer": ({"dropout": 0.1}, {"lr": 0.01, "weight_decay": 1e-3}),
        "pubmed": ({"dropout": 0.4}, {"lr": 0.005, "weight_decay": 0.0}),
        "a-computer": ({"dropout": 0.3}, {"lr": 0.001, "weight_decay": 2e-3}),
        "a-photo": ({"dropout": 0.3}, {"lr": 0.005, "weight_decay": 2e-3}),
        "ogbn-arxiv": ({"num_layers": 3, "hidden_channels": 1024, "dropout": 0.5,
                        "norm": "batch_norm"}, {"lr": 0.01, "weight_decay": 0.0}),
        "ogbn-products": ({"num_layers": 3, "hidden_channels": 2048, "dropout": 0.2,
                           "norm": "batch_norm"},
                          {"lr": 0.01, "weight_decay": 0.0, "batch_size": 4096, "patience": 30}),
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.schedule not in SCHEDULES:
            raise GkdError(f"unknown glnn schedule '{self.schedule}'; choose from "
                           f"{', '.join(SCHEDULES)}")

    def fit(self, student: torch.nn.Module, task: NodeTask,
            knowledge: Knowledge | None) -> History:
        r"""Trains :obj:`student` on the GLNN loss with the chosen :attr:`schedule`; see
        :meth:`Distiller.fit <gkd.distill.base.Distiller.fit>` for the arguments. With
        :attr:`lamb` = 1, :obj:`knowledge` may be ``None`` and, under ``"combined"``,
        the epochs cover the training nodes only.

        Args:
            student (torch.nn.Module): a graph-free model, ``student(x) -> logits``.
            task (NodeTask): the task.
            knowledge (Knowledge or None): the teacher's knowledge of :obj:`task`.

        Returns:
            History: what the training run did.

        Raises:
            GkdError: :obj:`knowledge` is ``None`` while :attr:`lamb` < 1, or the
                student or the knowledge does not fit :obj:`task`.
        """
        labels_alone = self.lamb == 1.0 or self.schedule == "two-pass"
        check_student(student, task, self.batch_size,
                      task.train_idx.numel() if labels_alone else None)
        if self.lamb < 1.0:
            if knowledge is None:
                raise GkdError("glnn with lamb < 1 needs the teacher's knowledge")
            knowledge.check(task)
            teacher = knowledge.logits
        x, y = task.graph.x, task.graph.y
        labelled = task.train_mask
        all_nodes = torch.arange(task.graph.num_nodes, device=x.device)
        optimizer = self.optimizer(student)

        def batch_loss(batch: torch.Tensor) -> torch.Tensor:
            out = student(x.index_select(0, batch))
            loss = out.new_zeros(())
            if self.lamb > 0:
                loss = loss + self.lamb * masked_cross_entropy(out, y[batch], labelled[batch])
            if self.lamb < 1:
                loss = loss + (1 - self.lamb) * kl_divergence(out, teacher.index_select(0, batch),
                                                              self.temperature)
            return loss

        def combined_epoch() -> Tensor:
            pool = task.train_idx if self.lamb == 1.0 else all_nodes
            return self.run_epoch(optimizer, pool, batch_loss)

        def two_pass_epoch() -> Tensor:
            losses = [optimizer_step(optimizer, self.lamb * F.cross_entropy(student(x[b]), y[b]))
                      for b in self.batches(task.train_idx, drop_last=True)]
            if self.lamb < 1:
                losses += [optimizer_step(optimizer, (1 - self.lamb) * kl_divergence(
                               student(x[b]), teacher[b], self.temperature))
                           for b in self.batches(all_nodes, drop_last=True)]
            return torch.stack(losses).mean()

        epoch = combined_epoch if self.schedule == "combined" else two_pass_epoch
        return fit(student, epoch, lambda: validation_accuracy(student, task),
                   max_epochs=self.max_epochs, patience=self.patience)
