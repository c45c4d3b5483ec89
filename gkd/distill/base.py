"""The interface every distiller shares."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor
from torch_geometric.nn.norm import BatchNorm

from gkd.config import check_fields
from gkd.data.tasks import NodeTask
from gkd.errors import GkdError
from gkd.evaluation import accuracy
from gkd.knowledge import Knowledge, teacher_knowledge
from gkd.teachers import teacher_config
from gkd.train import History, optimizer_step, split_batches

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
        r"""The default options for :obj:`dataset`, before user overrides: the MLP
        student's (:data:`STUDENT_DEFAULTS` updated by the dataset's entry of
        :attr:`dataset_defaults`) and this distiller's (its field defaults updated the
        same way).

        Args:
            dataset (str, optional): the dataset name, matched case-insensitively against
                :attr:`dataset_defaults`; ``None`` or a name without an entry gives the
                plain defaults. (default: ``None``)

        Returns:
            dict: ``{"student": {...}, "distiller": {...}}``, two new dicts.
        """
        student, distiller = cls.dataset_defaults.get((dataset or "").lower(), ({}, {}))
        return {"student": {**STUDENT_DEFAULTS, **student},
                "distiller": {**asdict(cls()), **distiller}}

    @classmethod
    def configure_teacher(cls, teacher: str, dataset: str | None = None,
                          overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        r"""The configuration of the teacher this method distils from, with
        :obj:`overrides` applied: by default the plain teacher's
        (:func:`~gkd.teachers.teacher_config`, which raises a
        :class:`~gkd.errors.GkdError` on an unknown teacher or a bad override). A method
        that needs another kind of teacher overrides this and :meth:`knowledge` together.

        Args:
            teacher (str): the teacher's name, e.g. ``"sage"``.
            dataset (str, optional): the dataset whose tuned teacher defaults apply.
                (default: ``None``)
            overrides (dict, optional): options to change. (default: ``None``)

        Returns:
            dict: the full teacher configuration, to pass to :meth:`knowledge`.
        """
        return teacher_config(teacher, dataset, overrides)

    @classmethod
    def check_student_config(cls, student: dict[str, Any]) -> None:
        r"""Raises a :class:`~gkd.errors.GkdError` when this method cannot distil into an
        MLP of the :obj:`student` options, before any training; every MLP fits by
        default.

        Args:
            student (dict): the student's options (:class:`~gkd.nn.MLP` arguments).
        """

    @classmethod
    def knowledge(cls, task: NodeTask, teacher: str, config: dict[str, Any], *,
                  cache: str | os.PathLike | None = None, use_cache: bool = True) -> Knowledge:
        r"""The knowledge this method distils from, for a teacher configured by
        :meth:`configure_teacher`: by default :func:`~gkd.knowledge.teacher_knowledge`
        (trained once and cached).

        Args:
            task (NodeTask): the task the teacher is trained on.
            teacher (str): the teacher's name.
            config (dict): its full configuration, as :meth:`configure_teacher`
                returns it.
            cache (str or os.PathLike, optional): the cache dir.
                (default: ``None``, :func:`~gkd.data.cache_dir`)
            use_cache (bool, optional): reuse and store trained teachers.
                (default: ``True``)

        Returns:
            Knowledge: the teacher's knowledge of the task's observed graph, with the
            trained teacher as :attr:`~gkd.knowledge.Knowledge.model`.
        """
        return teacher_knowledge(task, teacher, config, cache=cache, use_cache=use_cache)

    def fit(self, student: torch.nn.Module, task: NodeTask,
            knowledge: Knowledge | None) -> History:
        r"""Trains :obj:`student` in place on :obj:`task`, selecting the epoch of best
        validation accuracy (its state is restored); the student is left in eval mode.

        Args:
            student (torch.nn.Module): a graph-free model, ``student(x) -> logits``
                :math:`(N, C)`.
            task (NodeTask): the task; the student sees the features of its observed
                graph only.
            knowledge (Knowledge or None): the teacher's knowledge of :obj:`task`;
                ``None`` only where the method needs none.

        Returns:
            History: what the training run did.

        Raises:
            NotImplementedError: always; every distiller implements it.
        """
        raise NotImplementedError

    def optimizer(self, student: torch.nn.Module) -> torch.optim.Optimizer:
        r"""The optimiser of a run: Adam over all parameters of :obj:`student` with
        :attr:`lr` and :attr:`weight_decay`.

        Args:
            student (torch.nn.Module): the trained modules (the student, or a container
                of it and the modules trained with it).

        Returns:
            torch.optim.Optimizer: a new :class:`torch.optim.Adam`.
        """
        return torch.optim.Adam(student.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def batches(self, nodes: Tensor, drop_last: bool = False) -> Iterator[Tensor]:
        r"""A random permutation of :obj:`nodes` cut into mini-batches of
        :attr:`batch_size` (drawn from the global torch RNG), the last one possibly
        smaller; a last batch of one node joins the one before (batch norm cannot train
        on a single node).

        Args:
            nodes (Tensor): node indices :math:`(M)`.
            drop_last (bool, optional): yield only the ``max(1, M // batch_size)`` full
                batches, as the GLNN reference does; with :math:`M` below
                :attr:`batch_size`, the one batch holds all :math:`M` nodes.
                (default: ``False``)

        Returns:
            Iterator[Tensor]: the batches, node indices of :obj:`nodes`' dtype and
            device.
        """
        perm = nodes[torch.randperm(nodes.numel(), device=nodes.device)]
        if drop_last:
            count = max(1, perm.numel() // self.batch_size)
            perm = perm[:count * self.batch_size]
        yield from split_batches(perm, self.batch_size)

    def run_epoch(self, optimizer: torch.optim.Optimizer, nodes: Tensor,
                  batch_loss: Callable[[Tensor], Tensor]) -> Tensor:
        r"""One epoch over :obj:`nodes` in mini-batches (:meth:`batches`, the last one
        kept even if partial), with an optimiser step on :obj:`batch_loss` of each batch.

        Args:
            optimizer (torch.optim.Optimizer): the optimiser to step.
            nodes (Tensor): the node indices to cover :math:`(M)`.
            batch_loss (callable): maps a batch of node indices to a scalar loss tensor.

        Returns:
            Tensor: the mean of the batch losses, every batch counting once whatever its
            size (a detached one-element tensor on the losses' device).
        """
        losses = [optimizer_step(optimizer, batch_loss(batch)) for batch in self.batches(nodes)]
        return torch.stack(losses).mean()


def check_student(student: torch.nn.Module, task: NodeTask,
                  batch_size: int | None = None, pool_size: int | None = None) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`student` fits :obj:`task`: the
    sizes it declares (:meth:`~gkd.data.NodeTask.check_model`), parameters on the task's
    device (some of them, for a model split over devices), logits of the task's classes
    for two nodes' features, in eval mode, and no batch normalisation that needs two
    nodes when a batch holds one.

    Args:
        student (torch.nn.Module): a graph-free model, ``student(x) -> logits``.
        task (NodeTask): the task it is about to be trained on.
        batch_size (int, optional): the nodes per training batch. (default: ``None``,
            not checked)
        pool_size (int, optional): the fewest nodes an epoch's batches are cut from
            (the training nodes, for a pass over them alone). (default: ``None``, no
            fewer than :obj:`batch_size`)
    """
    task.check_model(student, "student")
    if batch_size is not None and _needs_two_nodes(student):
        if batch_size == 1:
            raise GkdError("batch normalisation cannot train on batches of one node: raise "
                           "the distiller's batch_size or build the student without it "
                           "(norm=None)")
        if pool_size == 1:
            raise GkdError("batch normalisation cannot train on batches of one node, and "
                           "the training split has one node: build the student without it "
                           "(norm=None)")
    x = task.graph.x[:2]  # two rows: batch statistics need more than one
    was_training = student.training
    student.eval()
    try:
        with torch.no_grad():
            out = student(x)
    finally:
        student.train(was_training)
    if not isinstance(out, Tensor) or out.shape != (x.size(0), task.num_classes):
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise GkdError(f"the student must map node features to logits (N, "
                       f"{task.num_classes}); for {x.size(0)} nodes it returned {got}")


def _needs_two_nodes(model: torch.nn.Module) -> bool:
    r"""Whether :obj:`model` holds a batch norm that cannot train on one node (PyG's
    :class:`~torch_geometric.nn.norm.BatchNorm` with ``allow_single_element`` can)."""
    exempt = {id(m.module) for m in model.modules()
              if isinstance(m, BatchNorm) and m.allow_single_element}
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and id(m) not in exempt
               for m in model.modules())


def validation_accuracy(student: torch.nn.Module, task: NodeTask) -> float:
    r"""The student's accuracy on the task's validation nodes, from features alone.

    Args:
        student (torch.nn.Module): a graph-free model, ``student(x) -> logits``.
        task (NodeTask): the task.

    Returns:
        float: the accuracy in percent (:func:`~gkd.evaluation.accuracy`).
    """
    val = task.val_idx
    return accuracy(student(task.graph.x.index_select(0, val)), task.graph.y[val])
