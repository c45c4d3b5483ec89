"""KRD: distillation from reliably sampled neighbours of every node."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.data.tasks import NodeTask
from gkd.distill.base import Distiller, validation_accuracy
from gkd.distill.glnn import GLNN
from gkd.errors import GkdError
from gkd.knowledge import Knowledge
from gkd.losses import kl_divergence
from gkd.ops import CSRGraph, adjacency, sample_neighbors
from gkd.reliability import (
    fit_alpha,
    knowledge_reliability,
    sample_reliable_pairs,
    sampling_probability,
)
from gkd.train import History, fit


@dataclass
class KRD(Distiller):
    r"""Knowledge-inspired Reliable Distillation ("Quantifying the Knowledge in GNNs for
    Reliable Distillation into MLPs", Wu et al., ICML 2023).

    The teacher's reliability :math:`\rho_v` at every observed node is the normalised
    change of its prediction entropy under Gaussian feature noise
    (:func:`~gkd.reliability.knowledge_reliability`). Each epoch, every edge
    :math:`i \leftarrow j` becomes a supervision pair :math:`(i, j)` with probability
    :math:`1 - \rho_j^\alpha`, and every node is paired with itself; the student minimises

    .. math::
        \lambda \cdot \mathrm{CE}(q_{V_L}, y) + (1-\lambda) \cdot \frac{1}{|P|}
        \sum_{(i,j) \in P} \tau^2\,\mathrm{KL}(p^T_j \,\|\, q_i)

    over mini-batches of student nodes :math:`i`. For the first :obj:`warmup` epochs every
    edge is kept; afterwards, every :obj:`resample_every` epochs, the exponent is refitted
    to the teacher–student agreement across reliability bins
    (:func:`~gkd.reliability.fit_alpha`; no labels) and moved with momentum,
    :math:`\alpha \leftarrow m\alpha + (1-m)\hat{\alpha}`, and the pairs are redrawn.

    Unlike the reference, the student's size is independent of the teacher (GLNN's
    students by default), :math:`\rho` averages several noise draws, the KL carries
    :math:`\tau^2`, and hyperparameters are chosen on validation only.

    Args:
        lamb (float, optional): weight :math:`\lambda` of the label loss. (default: ``0.0``)
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
        momentum (float, optional): :math:`m`. (default: ``0.99``)
        initial_alpha (float, optional): :math:`\alpha` before the first fit.
            (default: ``1.0``)
        bins (int, optional): reliability bins of the :math:`\alpha` fit. (default: ``50``)
        warmup (int, optional): epochs that keep every edge. (default: ``50``)
        resample_every (int, optional): epochs between refits and redraws.
            (default: ``1``)
        noise_std (float, optional): std of the reliability noise. (default: ``1.0``)
        noise_draws (int, optional): noise draws averaged into :math:`\rho`.
            (default: ``5``)
        **kwargs: training options of :class:`~gkd.distill.base.Distiller`.
    """

    lamb: float = 0.0
    temperature: float = 1.0
    momentum: float = 0.99
    initial_alpha: float = 1.0
    bins: int = 50
    warmup: int = 50
    resample_every: int = 1
    noise_std: float = 1.0
    noise_draws: int = 5

    name: ClassVar[str] = "krd"
    # GLNN's students and their training settings, for a like-for-like comparison.
    dataset_defaults: ClassVar = GLNN.dataset_defaults

    def __post_init__(self) -> None:
        if not 0.0 <= self.lamb < 1.0:
            raise GkdError(f"krd lamb must lie in [0, 1); got {self.lamb}")
        if not 0.0 <= self.momentum <= 1.0:
            raise GkdError(f"krd momentum must lie in [0, 1]; got {self.momentum}")
        if self.warmup < 0 or self.resample_every < 1:
            raise GkdError("krd needs warmup >= 0 and resample_every >= 1")

    def reliability(self, task: NodeTask, knowledge: Knowledge) -> Tensor:
        r""":math:`\rho` of every node of the task's observed graph, from the teacher in
        :attr:`Knowledge.model`, seeded by the task's seed."""
        if knowledge.model is None:
            raise GkdError("krd measures reliability with the teacher itself: use knowledge "
                           "from gkd.teacher_knowledge, or set knowledge.model to the "
                           "trained teacher")
        graph, teacher = task.graph, knowledge.model.eval()
        adj = adjacency(graph.edge_index, graph.num_nodes)
        return knowledge_reliability(lambda x: teacher(x, adj), graph.x,
                                     noise_std=self.noise_std, draws=self.noise_draws,
                                     generator=torch.Generator().manual_seed(task.seed))

    def fit(self, student: torch.nn.Module, task: NodeTask,
            knowledge: Knowledge | None) -> History:
        if knowledge is None:
            raise GkdError("krd needs the teacher's knowledge")
        knowledge.check(task)
        graph = task.graph
        x, y, n = graph.x, graph.y, graph.num_nodes
        csr = CSRGraph.from_edge_index(graph.edge_index, n)
        rho = self.reliability(task, knowledge)
        teacher_logits = knowledge.logits
        teacher_class = teacher_logits.argmax(-1)
        labelled = torch.zeros(n, dtype=torch.bool)
        labelled[task.train_idx] = True
        generator = torch.Generator().manual_seed(task.seed)
        optimizer = self.optimizer(student)
        state = {"epoch": 0, "alpha": self.initial_alpha, "pairs": [],
                 "graph": self._pairs(csr, torch.ones(n), generator)}

        def resample() -> None:
            with torch.no_grad():
                student.eval()
                agree = student(x).argmax(-1) == teacher_class
                student.train()
            fitted = fit_alpha(rho, agree, bins=self.bins, initial=state["alpha"])
            state["alpha"] = self.momentum * state["alpha"] + (1 - self.momentum) * fitted
            state["graph"] = self._pairs(csr, sampling_probability(rho, state["alpha"]),
                                         generator)
            state["pairs"].append(state["graph"].num_edges / n)

        def epoch() -> float:
            state["epoch"] += 1
            past_warmup = state["epoch"] - self.warmup
            if past_warmup > 0 and (past_warmup - 1) % self.resample_every == 0:
                resample()
            losses = []
            local = torch.full((n,), -1, dtype=torch.long)
            for batch in self.batches(torch.arange(n)):
                out = student(x[batch])
                local[batch] = torch.arange(batch.numel())
                teacher_nodes, student_nodes = sample_neighbors(state["graph"], batch, -1)
                loss = (1 - self.lamb) * kl_divergence(out[local[student_nodes]],
                                                       teacher_logits[teacher_nodes],
                                                       self.temperature)
                has_label = labelled[batch]
                if self.lamb > 0 and has_label.any():
                    loss = loss + self.lamb * F.cross_entropy(out[has_label], y[batch][has_label])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return sum(losses) / len(losses)

        history = fit(student, epoch, lambda: validation_accuracy(student, task),
                      max_epochs=self.max_epochs, patience=self.patience)
        pairs = state["pairs"] or [state["graph"].num_edges / n]
        history.extras = {"alpha": round(state["alpha"], 4),
                          "pairs_per_node": round(sum(pairs) / len(pairs), 3)}
        return history

    @staticmethod
    def _pairs(csr: CSRGraph, probability: Tensor, generator: torch.Generator) -> CSRGraph:
        r"""Drawn supervision pairs as a CSR graph: row ``i`` lists the teacher nodes whose
        knowledge the student learns at ``i``."""
        student_nodes, teacher_nodes = sample_reliable_pairs(csr, probability, generator)
        return CSRGraph.from_edge_index(torch.stack([teacher_nodes, student_nodes]),
                                        csr.num_nodes)
