"""The interface every distiller shares."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from gkd.config import check_fields
from gkd.data.tasks import NodeTask
from gkd.errors import GkdError
from gkd.evaluation import accuracy
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.teachers import teacher_config
from gkd.train import History, optimizer_step

STUDENT_DEFAULTS: dict[str, Any] = {"hidden_channels": 128, "num_layers": 2, "dropout": 0.0,
                                    "norm": None}


@dataclass(kw_only=True)
class Distiller:
    r"""Base class of distillers: a configured object whose :meth:`fit` trains a graph-free
    student from a task and a teacher's knowledge. Every option is keyword-only.

    Args:
        lr (float, optional): Adam learning rate. (default: ``0.01``)
        weight_decay (float, optional): Adam L2 weight decay. (default: ``5e-4``)
        batch_size (int, optional): nodes per mini-batch. (default: ``512``)
        max_epochs (int, optional): epoch budget. (default: ``200``)
        patience (int, optional): early-stopping patience on validation accuracy.
            (default: ``50``)
    """

    lr: float = 0.01
    weight_decay: float = 5e-4
    batch_size: int = 512
    max_epochs: int = 200
    patience: int = 50

    name: ClassVar[str] = ""
    # Per-dataset defaults: dataset -> ({student model options}, {distiller options}).
    dataset_defaults: ClassVar[dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {}

    def __post_init__(self) -> None:
        check_fields(self, self.name or "distiller")

    @classmethod
    def defaults(cls, dataset: str | None = None) -> dict[str, dict[str, Any]]:
        r"""``{"student": {...}, "distiller": {...}}`` for :obj:`dataset`: the MLP student's
        options and this distiller's options, before user overrides."""
        student, distiller = cls.dataset_defaults.get((dataset or "").lower(), ({}, {}))
        return {"student": {**STUDENT_DEFAULTS, **student},
                "distiller": {**asdict(cls()), **distiller}}

    @classmethod
    def configure_teacher(cls, teacher: str, dataset: str | None = None,
                          overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        r"""The configuration of the teacher this method distils from, with
        :obj:`overrides` applied: by default the plain teacher's
        (:func:`~gkd.teachers.teacher_config`). A method that needs another kind of
        teacher overrides this and :meth:`knowledge` together."""
        return teacher_config(teacher, dataset, overrides)

    @classmethod
    def knowledge(cls, task: NodeTask, teacher: str, config: dict[str, Any], *,
                  cache: str | os.PathLike | None = None, use_cache: bool = True) -> Knowledge:
        r"""The knowledge this method distils from, for a teacher configured by
        :meth:`configure_teacher`: by default :func:`~gkd.knowledge.teacher_knowledge`
        (trained once and cached)."""
        return teacher_knowledge(task, teacher, config, cache=cache, use_cache=use_cache)

    def fit(self, student: torch.nn.Module, task: NodeTask,
            knowledge: Knowledge | None) -> History:
        r"""Trains :obj:`student` in place (best validation state restored) and returns
        its :class:`~gkd.train.History`."""
        raise NotImplementedError

    def optimizer(self, student: torch.nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(student.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def batches(self, nodes: Tensor, drop_last: bool = False) -> Iterator[Tensor]:
        r"""A random permutation of :obj:`nodes` cut into mini-batches (drawn from the
        global torch RNG). With :obj:`drop_last`, only ``max(1, n // batch_size)`` full
        batches are yielded, as the GLNN reference does."""
        perm = nodes[torch.randperm(nodes.numel(), device=nodes.device)]
        if drop_last:
            count = max(1, perm.numel() // self.batch_size)
            perm = perm[:count * self.batch_size]
        yield from perm.split(self.batch_size)

    def run_epoch(self, optimizer: torch.optim.Optimizer, nodes: Tensor,
                  batch_loss: Callable[[Tensor], Tensor]) -> float:
        r"""One epoch over :obj:`nodes` in mini-batches (:meth:`batches`), an optimizer
        step on :obj:`batch_loss` of each batch; returns the mean loss."""
        losses = [optimizer_step(optimizer, batch_loss(batch)) for batch in self.batches(nodes)]
        return sum(losses) / len(losses)


def check_student(student: torch.nn.Module, task: NodeTask) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`student` fits :obj:`task`: the
    sizes it declares (:meth:`~gkd.data.NodeTask.check_model`) and the logits it returns,
    in eval mode, for one node's features (for models that declare no sizes).

    Args:
        student (torch.nn.Module): a graph-free model, ``student(x) -> logits``.
        task (NodeTask): the task it is about to be trained on.
    """
    task.check_model(student, "student")
    was_training = student.training
    student.eval()
    try:
        with torch.no_grad():
            out = student(task.graph.x[:1])
    finally:
        student.train(was_training)
    if not isinstance(out, Tensor) or out.shape != (1, task.num_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise GkdError(f"the student must map node features to logits (N, "
                       f"{task.num_classes}); for one node it returned {got}")


def validation_accuracy(student: torch.nn.Module, task: NodeTask) -> float:
    r"""The student's accuracy on the task's validation nodes, from features alone."""
    val = task.val_idx
    return accuracy(student(task.graph.x[val]), task.graph.y[val])
