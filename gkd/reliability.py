r"""Knowledge reliability and reliable neighbour sampling ("Quantifying the Knowledge in GNNs
for Reliable Distillation into MLPs", Wu et al., ICML 2023).

A node's knowledge is reliable when the teacher's prediction entropy barely moves under
feature noise. The reliability score :math:`\rho_v \in [0, 1]` (small is reliable) turns
into a sampling probability :math:`p_v = 1 - \rho_v^\alpha`; each edge ``i <- j`` is kept
with probability :math:`p_j`, and the student at ``i`` is matched to the teacher at ``j``.
The exponent :math:`\alpha` is fitted to how often the student agrees with the teacher
across reliability bins.

Differences from the reference code: :math:`\rho` may average several noise draws, the
:math:`\alpha` fit uses bin centres, weights bins by their node counts, skips empty bins and
keeps :math:`\alpha` within a range.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.errors import GkdError
from gkd.ops.checks import check_count
from gkd.ops.csr import CSRGraph

_GRID = 64  # log-spaced candidates that bracket the alpha fit before golden-section search
_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0


def prediction_entropy(logits: Tensor) -> Tensor:
    r"""The entropy :math:`-\sum_c p_c \ln p_c` of :math:`p = \mathrm{softmax}(z)` for every
    row, computed from :func:`log_softmax` so that extreme logits stay finite (a logit of
    :math:`-\infty` contributes :math:`0`).

    Args:
        logits (Tensor): logits :math:`(N, C)`.

    Shapes:
        - **output:** :math:`(N)`
    """
    log_p = F.log_softmax(logits, dim=-1)
    terms = log_p.exp() * log_p
    return -torch.where(log_p == -math.inf, 0.0, terms).sum(dim=-1)  # 0 ln 0 = 0


RELIABILITY_SCALES = ("max", "rank")


def knowledge_reliability(predict: Callable[[Tensor], Tensor], x: Tensor, *,
                          noise_std: float = 1.0, draws: int = 5, scale: str = "max",
                          generator: torch.Generator | None = None) -> Tensor:
    r"""The reliability score :math:`\rho` of the teacher's knowledge at every node: the
    absolute change of its prediction entropy when Gaussian noise
    :math:`\mathcal{N}(0, \sigma^2)` is added to all features, averaged over :obj:`draws`
    independent draws and scaled to :math:`[0, 1]` (all zeros when every node's entropy
    changes by the same amount, none then being less reliable than another).
    Small :math:`\rho` means reliable.

    Args:
        predict (Callable[[Tensor], Tensor]): logits :math:`(N, C)` of the teacher for
            features :math:`(N, F)`, e.g. ``lambda x: teacher(x, adj)`` with the teacher
            in eval mode; it runs under :func:`torch.inference_mode`.
        x (Tensor): clean node features :math:`(N, F)`.
        noise_std (float, optional): :math:`\sigma`. (default: ``1.0``)
        draws (int, optional): number of noise draws to average. (default: ``5``)
        scale (str, optional): ``"max"``: divided by the largest change, as in the paper;
            ``"rank"``: the share of nodes whose change is strictly smaller, so that
            :math:`\rho` spreads evenly over :math:`[0, 1]` however heavy the tail of the
            changes is. (default: ``"max"``)
        generator (torch.Generator, optional): source of the noise, on :obj:`x`'s device.
            (default: :obj:`None`)

    Shapes:
        - **output:** :math:`(N)`, in :math:`[0, 1]`

    Raises:
        GkdError: bad :obj:`draws`, :obj:`noise_std` or :obj:`scale`, features that are
            not finite, or a teacher whose output is not finite logits :math:`(N, C)`.
    """
    if draws < 1:
        raise GkdError(f"draws must be at least 1 (got {draws})")
    if not (noise_std > 0 and math.isfinite(noise_std)):
        raise GkdError(f"noise_std must be positive and finite (got {noise_std})")
    _check_scale(scale)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    if not bool(torch.isfinite(x).all()):
        raise GkdError("features contain NaN or infinite values")
    with torch.inference_mode():
        clean = _checked_entropy(predict(x), x.size(0))
        change = torch.zeros_like(clean)
        for _ in range(draws):  # one full teacher pass per draw
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            change += (_checked_entropy(predict(x + noise_std * noise), x.size(0)) - clean).abs()
        change /= draws
        rho = _scale(change, scale)
    return rho.clone()  # an ordinary tensor outside inference mode


def _checked_entropy(logits: Tensor, num_nodes: int) -> Tensor:
    if not isinstance(logits, Tensor) or logits.dim() != 2 or logits.size(0) != num_nodes:
        got = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise GkdError(f"the teacher must return one tensor of logits (N, C); for {num_nodes} "
                       f"nodes it returned {got}")
    entropy = prediction_entropy(logits)
    if not bool(torch.isfinite(entropy).all()):
        raise GkdError("the teacher's logits contain NaN or infinite values")
    return entropy


def entropy_reliability(logits: Tensor, *, scale: str = "max") -> Tensor:
    r"""A reliability score from the teacher's own uncertainty: the entropy of its
    prediction at every node, scaled to :math:`[0, 1]` like
    :func:`knowledge_reliability` (small is reliable). It needs no teacher passes, and on
    the CPF datasets it separates the teacher's wrong predictions from its right ones
    better than the entropy change under noise does (``benchmarks/results/krd``).

    Args:
        logits (Tensor): the teacher's logits :math:`(N, C)`.
        scale (str, optional): ``"max"`` or ``"rank"``, as in
            :func:`knowledge_reliability`. (default: ``"max"``)

    Shapes:
        - **output:** :math:`(N)`, in :math:`[0, 1]`
    """
    _check_scale(scale)
    if logits.dim() != 2:
        raise GkdError(f"logits must have shape (N, C) (got {tuple(logits.shape)})")
    entropy = prediction_entropy(logits.detach())
    if not bool(torch.isfinite(entropy).all()):
        raise GkdError("logits contain NaN or infinite values")
    return _scale(entropy, scale)


def _check_scale(scale: str) -> None:
    if scale not in RELIABILITY_SCALES:
        raise GkdError(f"unknown reliability scale '{scale}'; choose from "
                       f"{', '.join(RELIABILITY_SCALES)}")


def _scale(values: Tensor, scale: str) -> Tensor:
    return _rank_scale(values) if scale == "rank" else _max_scale(values)


def _max_scale(change: Tensor) -> Tensor:
    if change.numel() == 0 or not bool(change.max() > change.min()):
        return torch.zeros_like(change)  # no node less reliable than another, as with "rank"
    return (change / change.max()).clamp(0.0, 1.0)


def _rank_scale(change: Tensor) -> Tensor:
    below = torch.searchsorted(change.sort().values, change)  # ties share the lowest rank
    return below.to(change.dtype) / max(change.numel() - 1, 1)


def sampling_probability(rho: Tensor, alpha: float) -> Tensor:
    r"""The probability :math:`p_v = 1 - \rho_v^\alpha` of sampling a node's knowledge,
    clamped to :math:`[0, 1]`.

    Args:
        rho (Tensor): reliability scores :math:`(N)` in :math:`[0, 1]`.
        alpha (float): exponent :math:`\alpha > 0`; larger keeps more nodes.

    Shapes:
        - **output:** :math:`(N)`
    """
    if not alpha > 0:
        raise GkdError(f"alpha must be positive (got {alpha})")
    return (1.0 - rho.clamp(0.0, 1.0) ** alpha).clamp(0.0, 1.0)


def _binned_agreement(rho: Tensor, agreement: Tensor, bins: int) -> tuple[Tensor, Tensor, Tensor]:
    r"""Bin centres, agreement fractions and node counts of the non-empty equal-width
    bins of :obj:`rho` over :math:`[0, 1]` (``rho == 1`` falls into the last bin)."""
    index = (rho.double().clamp(0.0, 1.0) * bins).floor().long().clamp_(max=bins - 1)
    counts = torch.bincount(index, minlength=bins).double()
    hits = torch.bincount(index, weights=agreement.double(), minlength=bins)
    centres = (torch.arange(bins, dtype=torch.float64, device=rho.device) + 0.5) / bins
    nonempty = counts > 0
    return centres[nonempty], hits[nonempty] / counts[nonempty], counts[nonempty]


def _curve_error(log_alpha: Tensor, x: Tensor, y: Tensor, w: Tensor) -> Tensor:
    r"""Weighted squared error of :math:`f(x) = 1 - x^a` with :math:`a = e^{t}`, for every
    :math:`t` in :obj:`log_alpha` at once."""
    fit = 1.0 - x.unsqueeze(0) ** log_alpha.exp().unsqueeze(1)
    return ((fit - y) ** 2 * w).sum(dim=1)


def _golden_section(low: Tensor, high: Tensor, x: Tensor, y: Tensor, w: Tensor,
                    steps: int) -> Tensor:
    r"""The minimiser of :func:`_curve_error` in :math:`[low, high]`, assumed unimodal."""
    a, b = low, high
    for _ in range(steps):
        c, d = b - _INV_PHI * (b - a), a + _INV_PHI * (b - a)
        err = _curve_error(torch.stack([c, d]), x, y, w)
        if err[0] <= err[1]:
            b = d
        else:
            a = c
    return (a + b) / 2


def fit_alpha(rho: Tensor, agreement: Tensor, *, bins: int = 50, initial: float = 1.0,
              min_alpha: float = 0.05, max_alpha: float = 20.0, steps: int = 50) -> float:
    r"""Fits the exponent :math:`a` of :math:`f(x) = 1 - x^a` to how often the student
    agrees with the teacher as a function of reliability.

    Nodes are put into :obj:`bins` equal-width bins of :math:`\rho` over :math:`[0, 1]`;
    every non-empty bin gives its agreement fraction, and the fractions are min–max
    normalised across bins. The curve is fitted to (bin centre, fraction) by least squares
    weighted by the bins' node counts, over :math:`\log a`: a log-spaced grid (with
    :obj:`initial`) brackets the best exponent, and golden-section search refines it.

    Args:
        rho (Tensor): reliability scores :math:`(N)` in :math:`[0, 1]`.
        agreement (Tensor): whether the teacher's and the student's argmax agree,
            bool or float :math:`(N)`.
        bins (int, optional): number of bins. (default: ``50``)
        initial (float, optional): the current exponent; returned (clamped to the range)
            when all fractions are equal and the fit is undefined. (default: ``1.0``)
        min_alpha (float, optional): smallest exponent returned. (default: ``0.05``)
        max_alpha (float, optional): largest exponent returned. (default: ``20.0``)
        steps (int, optional): golden-section iterations. (default: ``50``)

    Raises:
        GkdError: :obj:`rho` and :obj:`agreement` are not vectors of one shape,
            :obj:`rho` leaves :math:`[0, 1]`, :obj:`agreement` is not finite, or an
            option is out of range.
    """
    if rho.shape != agreement.shape or rho.dim() != 1:
        raise GkdError(f"rho and agreement must be vectors of one shape (got "
                       f"{tuple(rho.shape)} and {tuple(agreement.shape)})")
    check_count(bins, "bins", minimum=1)
    check_count(steps, "steps")
    if not 0 < min_alpha <= max_alpha < math.inf:
        raise GkdError(f"alpha range must satisfy 0 < min_alpha <= max_alpha < inf (got "
                       f"{min_alpha}, {max_alpha})")
    if not initial > 0:
        raise GkdError(f"initial alpha must be positive (got {initial})")
    initial = min(max(float(initial), min_alpha), max_alpha)
    if not bool(((rho >= 0) & (rho <= 1)).all()):
        raise GkdError("rho must lie in [0, 1] (NaN included in the check)")
    if agreement.is_floating_point() and not bool(torch.isfinite(agreement).all()):
        raise GkdError("agreement contains NaN or infinite values")
    x, frac, w = _binned_agreement(rho, agreement, bins)
    if frac.numel() == 0 or frac.max() - frac.min() <= 0:
        return initial
    y = (frac - frac.min()) / (frac.max() - frac.min())
    grid = torch.linspace(math.log(min_alpha), math.log(max_alpha), _GRID, dtype=torch.float64,
                          device=x.device)
    grid = torch.cat([grid, grid.new_tensor([math.log(initial)])]).sort().values
    best = int(_curve_error(grid, x, y, w).argmin())
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.numel() - 1)]
    log_alpha = _golden_section(low, high, x, y, w, steps)
    return min(max(math.exp(float(log_alpha)), min_alpha), max_alpha)


def sample_reliable_pairs(graph: CSRGraph, probability: Tensor,
                          generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    r"""The supervision pairs of reliable distillation: every edge ``i <- j`` is kept
    independently with probability ``probability[j]``, the reliability of the neighbour
    (one Bernoulli draw over the edge list), and every self-pair ``(v, v)`` is added.

    Args:
        graph (CSRGraph): in-neighbour lists.
        probability (Tensor): sampling probability of every node :math:`(N)`, in
            :math:`[0, 1]`.
        generator (torch.Generator, optional): source of the draw, on the graph's device.
            (default: :obj:`None`)

    Returns:
        ``(student_nodes, teacher_nodes)``: the targets ``i`` and sources ``j`` of the
        kept edges in edge-list order, followed by all nodes ``0..N-1`` in both. The
        student's output at ``student_nodes[k]`` is matched to the teacher's output at
        ``teacher_nodes[k]``. A stored self-loop that is kept adds a second self-pair.
    """
    if probability.shape != (graph.num_nodes,):
        raise GkdError(f"probability must have one entry per node ({graph.num_nodes}), got "
                       f"shape {tuple(probability.shape)}")
    if not bool(((probability >= 0) & (probability <= 1)).all()):
        raise GkdError("probability must lie in [0, 1] (found values outside or NaN)")
    sources, targets = graph.col, graph.targets()
    draw = torch.rand(sources.numel(), generator=generator, device=sources.device)
    keep = draw < probability[sources]
    nodes = torch.arange(graph.num_nodes, device=sources.device)
    return torch.cat([targets[keep], nodes]), torch.cat([sources[keep], nodes])
