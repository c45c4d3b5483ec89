"""VQGraph: distillation of soft labels and soft code assignments from a graph tokenizer."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from gkd.data.tasks import NodeTask
from gkd.distill.base import Distiller, check_student, validation_accuracy
from gkd.distill.glnn import GLNN
from gkd.errors import GkdError
from gkd.knowledge import Knowledge
from gkd.losses import kl_divergence, masked_cross_entropy
from gkd.nn import MLP, code_scores, codebook_usage
from gkd.tokenizer import tokenizer_config, tokenizer_knowledge
from gkd.train import History, fit

_SHALLOW_STUDENT = ("vqgraph projects the student's last hidden layer: the student must be a "
                    "gkd.nn.MLP with num_layers >= 2")


@dataclass(kw_only=True)
class VQGraph(Distiller):
    r"""VQGraph ("VQGraph: Rethinking Graph Representation Space for Bridging GNNs and
    MLPs", Yang et al., ICLR 2024).

    The teacher is a graph tokenizer (:func:`gkd.tokenizer.tokenizer_knowledge`; its
    options are ``teacher.*`` options) whose codebook :math:`\{\mathbf{e}_k\}_{k=1}^M`
    stays frozen. A linear map :math:`\mathbf{W}` projects the MLP student's last hidden
    layer :math:`\mathbf{h}^S_v` into the code space, and the student minimises

    .. math::
        \lambda \cdot \mathrm{CE}(q_{V_L}, y) + (1-\lambda) \cdot
        \tau^2\,\mathrm{KL}(p^T_v \,\|\, q_v) + \beta \cdot
        \tau_c^2\,\mathrm{KL}(a^T_v \,\|\, a^S_v)

    over mini-batches of the observed nodes (labelled nodes for the first term), with
    the code assignments :math:`a_v = \mathrm{softmax}_k(s(\cdot, \mathbf{e}_k)/\tau_c)`
    of the teacher's quantiser input and of :math:`\mathbf{W}\mathbf{h}^S_v` under the
    tokenizer's own similarity :math:`s`, matched node by node. Epochs are selected on
    validation accuracy. :math:`\mathbf{W}` trains with the student but is no part of it:
    inference, and the parameter count, are the MLP's alone.

    Unlike the released code, the code KL is a true KL over log-probabilities, targets
    are indexed by node id, one similarity serves both sides, and selection never sees
    test labels.

    Every option is keyword-only; the training options of
    :class:`~gkd.distill.base.Distiller` (``lr``, ``weight_decay``, ``batch_size``,
    ``max_epochs``, ``patience``) apply too.

    Args:
        lamb (float, optional): weight :math:`\lambda` of the label loss. (default: ``0.0``)
        temperature (float, optional): :math:`\tau` of the soft labels. (default: ``1.0``)
        code_weight (float, optional): :math:`\beta`. (default: ``10.0``)
        code_temperature (float, optional): :math:`\tau_c`; cosine scores lie in
            :math:`[-1, 1]`, so it should lie below 1. (default: ``0.3``)
    """

    lamb: float = 0.0
    temperature: float = 1.0
    # Chosen on Cora's mean validation accuracy (CPF, SAGE, seeds 0-1, then 0-3) over
    # beta in {0, 1, 10, 100} and tau_c in {0.03, 0.1, 0.3}; beta = 0 was within noise.
    code_weight: float = 10.0
    code_temperature: float = 0.3

    name: ClassVar[str] = "vqgraph"
    # GLNN's students and their training settings, for a like-for-like comparison.
    dataset_defaults: ClassVar = GLNN.dataset_defaults

    @classmethod
    def configure_teacher(cls, teacher: str, dataset: str | None = None,
                          overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        r"""The configuration of the graph tokenizer on backbone :obj:`teacher`
        (:func:`~gkd.tokenizer.tokenizer_config`): the backbone teacher's options plus the
        tokenizer's own (:data:`~gkd.tokenizer.TOKENIZER_DEFAULTS`), with
        :obj:`overrides` applied and checked. Replaces the plain teacher configuration of
        :meth:`Distiller.configure_teacher <gkd.distill.base.Distiller.configure_teacher>`.

        Args:
            teacher (str): the backbone teacher's name, e.g. ``"sage"``.
            dataset (str, optional): the dataset whose tuned defaults apply.
                (default: ``None``)
            overrides (dict, optional): backbone or tokenizer options to change.
                (default: ``None``)

        Returns:
            dict: the full tokenizer configuration, to pass to :meth:`knowledge`.
        """
        return tokenizer_config(teacher, dataset, overrides)

    @classmethod
    def check_student_config(cls, student: dict[str, Any]) -> None:
        r"""Refuses a student of fewer than two layers, which has no hidden layer to
        project (:meth:`~gkd.distill.base.Distiller.check_student_config`)."""
        if student.get("num_layers", 2) < 2:
            raise GkdError(_SHALLOW_STUDENT)

    @classmethod
    def knowledge(cls, task: NodeTask, teacher: str, config: dict[str, Any], *,
                  cache: str | os.PathLike | None = None, use_cache: bool = True) -> Knowledge:
        r"""The knowledge of the graph tokenizer configured by :meth:`configure_teacher`
        (:func:`~gkd.tokenizer.tokenizer_knowledge`, trained once and cached): unlike the
        plain teacher's, it carries the frozen codebook, the quantiser inputs as
        embeddings and the similarity, from which :meth:`fit` derives the code targets.
        See :meth:`Distiller.knowledge <gkd.distill.base.Distiller.knowledge>` for the
        arguments.

        Args:
            task (NodeTask): the task the tokenizer is trained on.
            teacher (str): the backbone teacher's name.
            config (dict): the full tokenizer configuration.
            cache (str or os.PathLike, optional): the cache dir.
                (default: ``None``, :func:`~gkd.data.cache_dir`)
            use_cache (bool, optional): reuse and store trained tokenizers.
                (default: ``True``)

        Returns:
            Knowledge: the tokenizer's logits, embeddings, codebook and similarity on the
            task's observed graph.
        """
        return tokenizer_knowledge(task, teacher, config, cache=cache, use_cache=use_cache)

    def fit(self, student: torch.nn.Module, task: NodeTask,
            knowledge: Knowledge | None) -> History:
        r"""Trains :obj:`student` on the VQGraph loss; see
        :meth:`Distiller.fit <gkd.distill.base.Distiller.fit>` for the arguments. Unlike
        the other distillers, the student must be a :class:`~gkd.nn.MLP` with at least
        two layers, the knowledge must carry a codebook, and a linear projection
        :math:`\mathbf{W}` is trained alongside (and then discarded).

        Args:
            student (torch.nn.Module): a :class:`~gkd.nn.MLP` with ``num_layers >= 2``.
            task (NodeTask): the task.
            knowledge (Knowledge or None): the tokenizer's knowledge of :obj:`task`
                (:meth:`knowledge`).

        Returns:
            History: what the training run did; :attr:`~gkd.train.History.extras` holds
            ``num_codes``, the ``code_perplexity`` and ``dead_code_fraction`` of the
            teacher's nearest codes over the observed nodes, and ``code_agreement``, the
            share of those nodes whose nearest code is the same for the student's
            projection.

        Raises:
            GkdError: :obj:`knowledge` is ``None`` or has no codebook, the student is not
                an :class:`~gkd.nn.MLP` with at least two layers, or the student or the
                knowledge does not fit :obj:`task`.
        """
        mlp, knowledge, codebook, similarity = _checked(student, task, knowledge, self.batch_size)
        x, y, n = task.graph.x, task.graph.y, task.graph.num_nodes
        labelled = task.train_mask
        projection = torch.nn.Linear(mlp.hidden_channels, codebook.size(1),
                                     device=x.device)
        model = torch.nn.ModuleDict({"student": student, "projection": projection})
        optimizer = self.optimizer(model)

        def forward(batch: Tensor) -> tuple[Tensor, Tensor]:
            out, hidden = student(x.index_select(0, batch), return_hidden=True)
            return out, code_scores(projection(hidden[-1]), codebook, similarity)

        def batch_loss(batch: Tensor) -> Tensor:
            out, scores = forward(batch)
            loss = self.code_weight * kl_divergence(
                scores, knowledge.code_scores(batch), self.code_temperature)
            if self.lamb < 1:
                loss = loss + (1 - self.lamb) * kl_divergence(
                    out, knowledge.logits[batch], self.temperature)
            if self.lamb > 0:
                loss = loss + self.lamb * masked_cross_entropy(out, y[batch], labelled[batch])
            return loss

        nodes = torch.arange(n, device=x.device)
        history = fit(model, lambda: self.run_epoch(optimizer, nodes, batch_loss),
                      lambda: validation_accuracy(student, task),
                      max_epochs=self.max_epochs, patience=self.patience)
        with torch.no_grad():
            history.extras = _code_statistics(lambda batch: forward(batch)[1], knowledge,
                                              codebook.size(0),
                                              nodes.split(self.batch_size))
        return history


def _code_statistics(student_scores: Callable[[Tensor], Tensor], knowledge: Knowledge,
                     num_codes: int, chunks: tuple[Tensor, ...]) -> dict[str, Any]:
    r"""Usage of the teacher's codebook by its nodes' codes, and the share of nodes whose
    nearest code is the same for the student's projection and the teacher."""
    teacher = torch.cat([knowledge.code_scores(c).argmax(-1) for c in chunks])
    student = torch.cat([student_scores(c).argmax(-1) for c in chunks])
    usage = codebook_usage(teacher, num_codes)
    return {"num_codes": num_codes, "code_perplexity": round(usage["perplexity"], 2),
            "dead_code_fraction": round(usage["dead_fraction"], 4),
            "code_agreement": round(float((student == teacher).double().mean()), 4)}


def _checked(student: torch.nn.Module, task: NodeTask, knowledge: Knowledge | None,
             batch_size: int) -> tuple[MLP, Knowledge, Tensor, str]:
    r"""The student, the knowledge, its frozen codebook and similarity, once all fit the
    task."""
    if knowledge is None:
        raise GkdError("vqgraph needs the tokenizer's knowledge")
    check_student(student, task, batch_size)
    knowledge.check(task)
    if knowledge.codebook is None or knowledge.similarity is None:
        raise GkdError("vqgraph distils code assignments, but this knowledge has no codebook: "
                       "use gkd.tokenizer.tokenizer_knowledge")
    if not isinstance(student, MLP) or student.num_layers < 2:
        raise GkdError(_SHALLOW_STUDENT)
    return student, knowledge, knowledge.codebook.detach(), knowledge.similarity
