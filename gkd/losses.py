r"""Distillation losses between student and teacher logits, and the label loss the
distillers add to them.

Every divergence compares tempered distributions :math:`p = \mathrm{softmax}(z/\tau)`
and is multiplied by :math:`\tau^2` so that its gradients keep their scale when the
temperature changes ("Distilling the Knowledge in a Neural Network", Hinton et al.,
2015). ``reduction`` is ``"mean"`` (over nodes), ``"sum"`` or ``"none"`` (one value
per node).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.errors import InputError


class LossInputError(InputError):
    r"""Logits of different shapes, or a temperature that is not positive."""


# --- helpers -----------------------------------------------------------------------


def _reduce(per_node: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        # zero, not NaN, over no nodes, as masked_cross_entropy
        return per_node.mean() if per_node.numel() else per_node.sum()
    if reduction == "sum":
        return per_node.sum()
    if reduction == "none":
        return per_node
    raise InputError(f"unknown reduction '{reduction}' (choose mean, sum or none)")


def _check(student: Tensor, teacher: Tensor, temperature: float) -> None:
    if student.shape != teacher.shape:
        raise LossInputError(f"the student's logits {tuple(student.shape)} and the teacher's "
                             f"{tuple(teacher.shape)} differ in shape")
    if not 0 < temperature < math.inf:
        raise LossInputError(f"temperature must be positive and finite (got {temperature})")


def _kl(log_p: Tensor, log_q: Tensor) -> Tensor:
    r"""Per-row :math:`\mathrm{KL}(p \,\|\, q)` from log-probabilities, with
    :math:`0 \ln 0 = 0` where :math:`p` is zero (a logit of :math:`-\infty`)."""
    impossible = log_p == -math.inf
    log_p = log_p.masked_fill(impossible, 0.0)  # keeps inf - inf out of the gradient too
    terms = log_p.exp() * (log_p - log_q)
    return terms.masked_fill(impossible, 0.0).sum(dim=-1)


# --- losses ------------------------------------------------------------------------


def _tempered_kl(p_logits: Tensor, q_logits: Tensor, temperature: float,
                 reduction: str) -> Tensor:
    t = temperature
    kl = _kl(F.log_softmax(p_logits / t, dim=-1), F.log_softmax(q_logits / t, dim=-1))
    return _reduce(kl * t * t, reduction)


def kl_divergence(student: Tensor, teacher: Tensor, temperature: float = 1.0,
                  reduction: str = "mean") -> Tensor:
    r"""Forward KL :math:`\tau^2\,\mathrm{KL}(p_T \,\|\, p_S)`, the soft-label loss of
    knowledge distillation and GLNN.

    Args:
        student (Tensor): student logits :math:`(N, C)`.
        teacher (Tensor): teacher logits :math:`(N, C)`.
        temperature (float, optional): :math:`\tau`. (default: ``1.0``)
        reduction (str, optional): ``"mean"``, ``"sum"`` or ``"none"``; the mean over no
            nodes is zero. (default: ``"mean"``)
    """
    _check(student, teacher, temperature)
    return _tempered_kl(teacher, student, temperature, reduction)


def reverse_kl_divergence(student: Tensor, teacher: Tensor, temperature: float = 1.0,
                          reduction: str = "mean") -> Tensor:
    r"""Reverse KL :math:`\tau^2\,\mathrm{KL}(p_S \,\|\, p_T)` (mode-seeking); arguments
    as :func:`kl_divergence`."""
    _check(student, teacher, temperature)
    return _tempered_kl(student, teacher, temperature, reduction)


def js_divergence(student: Tensor, teacher: Tensor, temperature: float = 1.0,
                  reduction: str = "mean") -> Tensor:
    r"""Jensen–Shannon divergence :math:`\tau^2\,(\tfrac12\mathrm{KL}(p_S\|m) +
    \tfrac12\mathrm{KL}(p_T\|m))` with :math:`m = \tfrac12(p_S + p_T)`; symmetric and
    bounded by :math:`\tau^2 \ln 2`."""
    _check(student, teacher, temperature)
    t = temperature
    log_s, log_t = F.log_softmax(student / t, dim=-1), F.log_softmax(teacher / t, dim=-1)
    log_m = torch.logsumexp(torch.stack([log_s, log_t]), dim=0) - math.log(2.0)
    js = 0.5 * (_kl(log_s, log_m) + _kl(log_t, log_m))
    return _reduce(js * t * t, reduction)


def logit_mse(student: Tensor, teacher: Tensor, reduction: str = "mean") -> Tensor:
    r"""Mean squared error between logits, averaged over classes per node (logit
    matching, "Do Deep Nets Really Need to be Deep?", Ba & Caruana, 2014)."""
    _check(student, teacher, 1.0)
    return _reduce((student - teacher).pow(2).mean(dim=-1), reduction)


def masked_cross_entropy(logits: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    r"""Cross-entropy of the rows of :obj:`logits` where :obj:`mask` is set against their
    labels :obj:`y` (mean over those rows); zero when no row is set, e.g. a mini-batch
    without labelled nodes.

    Args:
        logits (Tensor): logits :math:`(N, C)`.
        y (Tensor): class labels :math:`(N)`.
        mask (Tensor): boolean :math:`(N)`, the rows that count.

    Raises:
        InputError: :obj:`mask` is not a boolean vector of one entry per row.
    """
    if mask.dtype != torch.bool or mask.shape != logits.shape[:1]:
        raise InputError(f"mask must be a boolean vector of the {logits.size(0)} rows; got "
                         f"{mask.dtype} of shape {tuple(mask.shape)} (integer masks would "
                         f"index rows)")
    if not mask.any():
        return logits.new_zeros(())
    return F.cross_entropy(logits[mask], y[mask])


# --- relational losses over an anchor's context scores (LLP) -------------------------


def rank_margin_loss(student: Tensor, teacher: Tensor, margin: float) -> Tensor:
    r"""Rank-based matching of LLP ("Linkless Link Prediction via Relational
    Distillation", Guo et al., ICML 2023): for every pair :math:`(i, j)` of an anchor's
    contexts that the teacher orders by more than :obj:`margin`
    (:math:`r_{ij} = \mathrm{sign}(t_i - t_j)`), the hinge
    :math:`\max(0, \delta - r_{ij}\,(s_i - s_j))`, averaged over those pairs. Pairs the
    teacher ties (within :math:`\delta`) carry no target and are left out of the mean.

    Args:
        student (Tensor): student scores :math:`(A, K)`, one row per anchor.
        teacher (Tensor): teacher scores :math:`(A, K)`.
        margin (float): :math:`\delta`, both the tie threshold and the hinge margin.
    """
    _check(student, teacher, 1.0)
    t_diff = teacher.unsqueeze(-1) - teacher.unsqueeze(-2)  # (A, K, K): t_i - t_j
    s_diff = student.unsqueeze(-1) - student.unsqueeze(-2)
    upper = torch.ones(teacher.size(-1), teacher.size(-1), dtype=torch.bool,
                       device=teacher.device).triu(1)
    ordered = (t_diff.abs() > margin) & upper
    hinge = (margin - torch.sign(t_diff) * s_diff).clamp(min=0)
    return (hinge * ordered).sum() / ordered.sum().clamp(min=1)
