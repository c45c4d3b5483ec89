"""Distilling a GNN link predictor into an MLP link predictor.

:class:`LinkDistiller` trains the graph-free student on the link labels alone (the plain
MLP baseline); :class:`LLP` adds relational distillation ("Linkless Link Prediction via
Relational Distillation", Guo et al., ICML 2023), :class:`LogitMatching` and
:class:`ReprMatching` the two direct baselines of that paper.

Every step takes a batch of anchor nodes and a batch of training edges (with as many
sampled non-edges), so that one epoch passes once over the anchors and once over the
edges. The student encodes the observed graph's nodes once per step; the context scores
of a step, the quadratic part, are bounded by ``anchor_batch_size``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.config import check_fields
from gkd.data.links import LinkTask
from gkd.errors import GkdError
from gkd.link_teachers import LinkKnowledge, link_loss, selection_k, validation_hits
from gkd.losses import kl_divergence, rank_margin_loss
from gkd.nn.link_predictor import LinkPredictor
from gkd.ops import CSRGraph, sample_non_edges
from gkd.ops.context import sample_context
from gkd.ops.csr import quiet_sparse_csr
from gkd.train import History, fit, optimizer_step

# Below this share of non-zero features the student's first layer reads them as a sparse
# CSR matrix on the CPU: bag-of-words features (Cora: 1.3 %) then cost several times less
# per step there, while a GPU multiplies the dense matrix fast anyway.
SPARSE_FEATURES = 0.1


def student_features(x: Tensor) -> Tensor:
    r""":obj:`x` as the MLP student reads it in training: sparse CSR when it is mostly
    zeros and on the CPU (same results, cheaper products), else unchanged."""
    if x.device.type != "cpu" or x.dim() != 2:
        return x
    if float((x != 0).float().mean()) >= SPARSE_FEATURES:
        return x
    with quiet_sparse_csr():
        return x.to_sparse_csr()


@dataclass(kw_only=True)
class LinkDistiller:
    r"""Trains a graph-free :class:`~gkd.nn.link_predictor.LinkPredictor` with binary
    cross-entropy on training edges and sampled non-edges, plus the
    :meth:`distill_loss` of a subclass (none here: the plain MLP baseline). Every option
    is keyword-only.

    Args:
        lr (float, optional): Adam learning rate. (default: ``0.005``)
        weight_decay (float, optional): Adam L2 weight decay. (default: ``0.0``)
        max_epochs (int, optional): epoch budget. (default: ``1000``)
        patience (int, optional): epochs without a validation Hits@K gain before
            stopping. (default: ``100``)
        anchor_batch_size (int, optional): anchor nodes per step; the training edges are
            spread over the same number of steps (larger anchor batches where there are
            fewer training edges than steps). (default: ``4096``)
        label_weight (float, optional): weight of the cross-entropy. (default: ``1.0``)
        grad_clip (float, optional): gradient-norm clip. (default: ``1.0``)
        hits_k (int, optional): the :math:`K` of the reported Hits@K. (default: ``20``)
        select_k (int, optional): the :math:`K` of the validation Hits@K that selects the
            epoch (:func:`~gkd.link_teachers.selection_k`); ``None`` selects on
            :obj:`hits_k`. (default: ``None``)
    """

    lr: float = 0.005
    weight_decay: float = 0.0
    max_epochs: int = 1000
    patience: int = 100
    anchor_batch_size: int = 4096
    label_weight: float = 1.0
    grad_clip: float = 1.0
    hits_k: int = 20
    select_k: int | None = None

    name: ClassVar[str] = "mlp"

    def __post_init__(self) -> None:
        check_fields(self, self.name)
        selection_k(self.hits_k, self.select_k)

    def options(self) -> dict[str, Any]:
        return asdict(self)

    def distill_loss(self, student: LinkPredictor, h: Tensor, anchors: Tensor, pairs: Tensor,
                     logits: Tensor, knowledge: LinkKnowledge, graph: CSRGraph) -> Tensor:
        r"""The distillation term of one step.

        Args:
            student (LinkPredictor): the student.
            h (Tensor): the student's embeddings of the observed graph's nodes.
            anchors (Tensor): the step's anchor nodes :math:`(A)`.
            pairs (Tensor): the step's labelled pairs :math:`(2, P)`.
            logits (Tensor): the student's logits of :obj:`pairs` :math:`(P)`.
            knowledge (LinkKnowledge): the teacher.
            graph (CSRGraph): the observed graph.
        """
        return logits.new_zeros(())

    def check(self, student: LinkPredictor, task: LinkTask,
              knowledge: LinkKnowledge | None) -> None:
        r"""Raises a :class:`~gkd.errors.GkdError` if :obj:`student`, :obj:`task` and
        :obj:`knowledge` cannot be combined: a student that reads the graph or another
        feature size, or missing knowledge, knowledge without a pair decoder, or of a
        teacher trained on another task or of another node count."""
        if not isinstance(student, LinkPredictor):
            raise GkdError(f"the student of link distillation must be a LinkPredictor (an MLP "
                           f"encoder with a pair decoder, e.g. from "
                           f"gkd.linkpred.build_link_student); got {type(student).__name__}")
        if not student.graph_free:
            raise GkdError("the student of link distillation must be graph-free (an MLP)")
        width = getattr(student.encoder, "in_channels", None)
        if isinstance(width, int) and width != task.num_features:
            raise GkdError(f"the student's in_channels is {width} but the task has "
                           f"{task.num_features} features")
        if self.name == LinkDistiller.name:
            return
        if knowledge is None:
            raise GkdError(f"method {self.name} needs a teacher's knowledge")
        if not callable(getattr(knowledge.model, "score", None)):
            raise GkdError(f"the teacher's knowledge must hold the link predictor itself as "
                           f"model (a gkd LinkPredictor, whose score(h, pairs) decodes "
                           f"pairs); got {type(knowledge.model).__name__}")
        trained_on = knowledge.meta.get("fingerprint")
        if trained_on is not None and trained_on != task.fingerprint():
            raise GkdError("the teacher's knowledge comes from another link task (another "
                           "graph or split), whose training edges may be this task's test "
                           "edges; use a teacher trained on this task")
        if knowledge.embeddings.size(0) != task.graph.num_nodes:
            raise GkdError(f"the teacher's knowledge covers {knowledge.embeddings.size(0)} "
                           f"nodes but the task's observed graph has {task.graph.num_nodes}")

    def training_modules(self, student: LinkPredictor,
                         knowledge: LinkKnowledge) -> list[torch.nn.Module]:
        r"""Modules trained with the student but not part of it (none here)."""
        return []

    def fit(self, student: LinkPredictor, task: LinkTask,
            knowledge: LinkKnowledge | None = None) -> History:
        r"""Trains :obj:`student` in place on :obj:`task` (best validation Hits@K state
        restored)."""
        self.check(student, task, knowledge)
        x, n = student_features(task.graph.x), task.graph.num_nodes
        graph = CSRGraph.from_edge_index(task.graph.edge_index, n)
        extra = [] if knowledge is None else self.training_modules(student, knowledge)
        parameters = [p for module in [student, *extra] for p in module.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=self.lr, weight_decay=self.weight_decay)
        k = selection_k(self.hits_k, self.select_k)

        def train_epoch() -> Tensor:
            # never more steps than training edges: an empty edge batch has no label loss
            steps = min(math.ceil(n / self.anchor_batch_size), task.train_pos.size(1))
            anchors = torch.randperm(n, device=task.device).tensor_split(steps)
            order = torch.randperm(task.train_pos.size(1), device=task.device)
            pos = task.train_pos[:, order].tensor_split(steps, dim=1)
            losses = []
            for anchor, batch in zip(anchors, pos):
                pairs = torch.cat([batch, sample_non_edges(graph, batch.size(1))], dim=1)
                with quiet_sparse_csr():
                    h = student.encode(x)
                logits = student.score(h, pairs)
                loss = self.label_weight * link_loss(logits, batch.size(1))
                if knowledge is not None:
                    loss = loss + self.distill_loss(student, h, anchor, pairs, logits,
                                                    knowledge, graph)
                losses.append(optimizer_step(optimizer, loss, self.grad_clip))
            return torch.stack(losses).mean()

        def validate() -> float:
            with quiet_sparse_csr():
                return validation_hits(student.encode(x), student, task, k)

        return fit(student, train_epoch, validate, max_epochs=self.max_epochs,
                   patience=self.patience)


@dataclass(kw_only=True)
class LLP(LinkDistiller):
    r"""Relational distillation (LLP): for each anchor, nearby contexts (random walks)
    and random contexts (uniform over the observed graph) are scored by teacher and
    student, and the student matches

    - the teacher's *order* of the contexts' link probabilities: the margin ranking loss
      :func:`~gkd.losses.rank_margin_loss` with margin :math:`\delta`, over the pairs
      the teacher orders by more than :math:`\delta`;
    - the teacher's *distribution* over the contexts: :math:`\tau^2\,\mathrm{KL}` between
      the tempered softmax of the teacher's and the student's link logits
      (:func:`~gkd.losses.kl_divergence`; the reference applies it to probabilities at
      :math:`\tau = 1`, which makes the targets nearly uniform).

    Every option is keyword-only; the options of :class:`LinkDistiller` apply too.

    Args:
        rank_weight (float, optional): weight of the rank loss. (default: ``10.0``)
        dist_weight (float, optional): weight of the distribution loss. (default: ``0.1``)
        margin (float, optional): :math:`\delta`, on probabilities. (default: ``0.1``)
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
        num_walks (int, optional): random walks per anchor. (default: ``3``)
        walk_length (int, optional): steps per walk. (default: ``2``)
        num_random (int, optional): random contexts per anchor. (default: ``6``)
    """

    # The best mean validation Hits@20 over Cora and CiteSeer (5 seeds each) of the
    # weightings in benchmarks/sweeps/llp_weights.sh.
    rank_weight: float = 10.0
    dist_weight: float = 0.1
    margin: float = 0.1
    temperature: float = 1.0
    num_walks: int = 3
    walk_length: int = 2
    num_random: int = 6

    name: ClassVar[str] = "llp"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_walks * self.walk_length + self.num_random < 2:
            raise GkdError("LLP needs at least two contexts per anchor "
                           "(num_walks * walk_length + num_random)")

    def distill_loss(self, student: LinkPredictor, h: Tensor, anchors: Tensor, pairs: Tensor,
                     logits: Tensor, knowledge: LinkKnowledge, graph: CSRGraph) -> Tensor:
        context = sample_context(graph, anchors, self.num_walks, self.walk_length,
                                 self.num_random)
        anchor_pairs = torch.stack([anchors.unsqueeze(1).expand_as(context), context])
        student_scores = student.score(h, anchor_pairs.view(2, -1)).view_as(context)
        teacher_scores = knowledge.score(anchor_pairs)
        rank = rank_margin_loss(student_scores.sigmoid(), teacher_scores.sigmoid(), self.margin)
        dist = kl_divergence(student_scores, teacher_scores, self.temperature)
        return self.rank_weight * rank + self.dist_weight * dist


@dataclass(kw_only=True)
class LogitMatching(LinkDistiller):
    r"""Direct logit matching: the mean squared error between the student's and the
    teacher's link probabilities on the step's training edges and non-edges.

    Every option is keyword-only; the options of :class:`LinkDistiller` apply too.

    Args:
        match_weight (float, optional): weight of the matching loss. (default: ``1.0``)
    """

    match_weight: float = 1.0

    name: ClassVar[str] = "logit"

    def distill_loss(self, student: LinkPredictor, h: Tensor, anchors: Tensor, pairs: Tensor,
                     logits: Tensor, knowledge: LinkKnowledge, graph: CSRGraph) -> Tensor:
        target = knowledge.score(pairs).sigmoid()
        return self.match_weight * F.mse_loss(logits.sigmoid(), target)


@dataclass(kw_only=True)
class ReprMatching(LinkDistiller):
    r"""Direct representation matching: one minus the cosine similarity of the student's
    and the teacher's embeddings of the step's anchors. A student of another width than
    the teacher's is mapped to the teacher's by a linear layer trained with it (a FitNets
    regressor, not part of the student, so inference is unchanged).

    Every option is keyword-only; the options of :class:`LinkDistiller` apply too.

    Args:
        match_weight (float, optional): weight of the matching loss. (default: ``1.0``)
    """

    match_weight: float = 1.0

    name: ClassVar[str] = "repr"

    def training_modules(self, student: LinkPredictor,
                         knowledge: LinkKnowledge) -> list[torch.nn.Module]:
        width, size = student.embedding_channels, knowledge.embeddings.size(-1)
        self._project = torch.nn.Identity() if width == size else \
            torch.nn.Linear(width, size, device=knowledge.embeddings.device)
        return [self._project]

    def distill_loss(self, student: LinkPredictor, h: Tensor, anchors: Tensor, pairs: Tensor,
                     logits: Tensor, knowledge: LinkKnowledge, graph: CSRGraph) -> Tensor:
        similarity = F.cosine_similarity(self._project(h[anchors]),
                                         knowledge.embeddings[anchors], dim=-1)
        return self.match_weight * (1.0 - similarity).mean()


LINK_DISTILLERS: dict[str, type[LinkDistiller]] = {
    cls.name: cls for cls in (LLP, LogitMatching, ReprMatching)}


def get_link_distiller(name: str) -> type[LinkDistiller]:
    r"""The link distiller class registered as :obj:`name`."""
    try:
        return LINK_DISTILLERS[name]
    except KeyError:
        raise GkdError(f"unknown link method '{name}'; choose from "
                       f"{', '.join(LINK_DISTILLERS)}") from None
