r"""A vector quantiser with an EMA or learned codebook, the tokenizer layer of VQGraph.

Written for gkd after "Neural Discrete Representation Learning" (VQ-VAE, van den Oord et
al., NeurIPS 2017), "SoundStream: An End-to-End Neural Audio Codec" (Zeghidour et al.,
2021; k-means initialisation and dead-code revival) and the layout of
`lucidrains/vector-quantize-pytorch <https://github.com/lucidrains/vector-quantize-pytorch>`_,
whose pinned behaviour the tests use as an oracle. No distributed behaviour is implicit:
nothing is synchronised across processes.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gkd.errors import InputError
from gkd.ops.checks import check_count

SIMILARITIES = ("euclidean", "cosine")

# --- helpers -----------------------------------------------------------------------


def _norm_floor(dtype: torch.dtype) -> float:
    return max(1e-12, torch.finfo(dtype).tiny)  # 1e-12 is zero in float16: 0 / 0


def _at_least_float32(t: Tensor) -> Tensor:
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t


def _l2norm(t: Tensor) -> Tensor:
    return F.normalize(t, p=2.0, dim=-1, eps=_norm_floor(t.dtype))


def _check_similarity(similarity: str) -> None:
    if similarity not in SIMILARITIES:
        raise InputError(f"unknown similarity '{similarity}' (choose euclidean or cosine)")


def _rotate_to(x: Tensor, q: Tensor) -> Tensor:
    r"""The rotation trick ("Restructuring Vector Quantization with the Rotation Trick",
    Fifty et al., ICLR 2025): returns :math:`q` whose gradient to :math:`x` is the upstream
    gradient rotated from :math:`\hat q` back to :math:`\hat x` and scaled by
    :math:`\|q\|/\|x\|`, with the rotation and scale treated as constants."""
    u, v = _l2norm(x).detach(), _l2norm(q).detach()
    w = _l2norm(u + v)  # reflection axis; u = -v gives w = 0, still a valid map
    out = (x - 2 * (x * w).sum(-1, keepdim=True) * w + 2 * (x * u).sum(-1, keepdim=True) * v)
    x_norm = x.norm(dim=-1, keepdim=True).clamp_min(_norm_floor(x.dtype))
    scale = q.norm(dim=-1, keepdim=True) / x_norm
    out = out * scale.detach()
    return out + (q - out).detach()  # exact forward value, even for x = 0


# --- scores and usage --------------------------------------------------------------


def code_scores(x: Tensor, codebook: Tensor, similarity: str = "cosine",
                squared: bool = True) -> Tensor:
    r"""Scores every row of :obj:`x` against every code; higher means closer.

    ``"cosine"`` gives :math:`\cos(\mathbf{x}_i, \mathbf{e}_k)` (both sides are
    L2-normalised here), ``"euclidean"`` gives :math:`-\|\mathbf{x}_i - \mathbf{e}_k\|^2`,
    or :math:`-\|\mathbf{x}_i - \mathbf{e}_k\|` with :obj:`squared=False` (the student side
    of VQGraph's token distillation). Differentiable in both arguments, so a student
    projection can be scored against a frozen codebook.

    Args:
        x (Tensor): inputs :math:`(N, D)`.
        codebook (Tensor): codes :math:`(K, D)`.
        similarity (str, optional): ``"cosine"`` or ``"euclidean"``. (default: ``"cosine"``)
        squared (bool, optional): squared Euclidean distances. (default: ``True``)

    Returns:
        Tensor: the scores :math:`(N, K)`.

    Shapes:
        - **output:** :math:`(N, K)`

    Raises:
        InputError: an unknown :obj:`similarity`, :obj:`x` and :obj:`codebook` that are
            not :math:`(N, D)` and :math:`(K, D)`, or that differ in dtype.
    """
    _check_similarity(similarity)
    if x.dim() != 2 or codebook.dim() != 2 or x.size(1) != codebook.size(1):
        raise InputError(f"expected x (N, D) and codebook (K, D), got {tuple(x.shape)} and "
                         f"{tuple(codebook.shape)}")
    if x.dtype != codebook.dtype or not x.is_floating_point():
        raise InputError(f"x ({x.dtype}) and the codebook ({codebook.dtype}) must share a "
                         f"floating-point dtype")
    if similarity == "cosine":
        return _l2norm(x) @ _l2norm(codebook).t()
    dist = (x.pow(2).sum(-1, keepdim=True) - 2 * x @ codebook.t()
            + codebook.pow(2).sum(-1)).clamp_min(0)
    return -dist if squared else -dist.add(1e-12).sqrt()


def codebook_usage(indices: Tensor, num_codes: int) -> dict[str, float]:
    r"""Codebook usage of one batch of code indices: ``"perplexity"``
    :math:`\exp(-\sum_k p_k \log p_k)` of the empirical code distribution (``num_codes``
    when all codes are used equally, ``1`` when one code takes everything) and
    ``"dead_fraction"``, the share of codes that no row was assigned to.

    Args:
        indices (Tensor): code indices of any shape.
        num_codes (int): the codebook size :math:`K`.

    Returns:
        dict[str, float]: ``{"perplexity", "dead_fraction"}``; for no indices,
        ``1.0`` and ``1.0``.

    Raises:
        InputError: :obj:`indices` are not integers in ``[0, num_codes)``.
    """
    if indices.is_floating_point() or indices.dtype == torch.bool:
        raise InputError(f"code indices must be integers; got {indices.dtype}")
    if indices.numel() and not (0 <= int(indices.min()) and int(indices.max()) < num_codes):
        raise InputError(f"code indices must lie in [0, {num_codes}); got {int(indices.min())} "
                         f"to {int(indices.max())}")
    counts = torch.bincount(indices.flatten(), minlength=num_codes).double()
    p = counts / counts.sum().clamp_min(1)
    entropy = -(p * p.clamp_min(1e-30).log()).sum()
    return {"perplexity": math.exp(float(entropy)),
            "dead_fraction": float((counts == 0).double().mean())}


class VQOutput(NamedTuple):
    r"""What :class:`VectorQuantizer` returns."""
    quantized: Tensor  #: nearest codes :math:`(N, D)`, straight-through gradient to the input
    indices: Tensor  #: code of every row :math:`(N,)`
    scores: Tensor  #: :func:`code_scores` against the codebook used :math:`(N, K)`
    loss: Tensor  #: commitment loss, plus the codebook loss when the codebook is learned


# --- quantiser ---------------------------------------------------------------------


class VectorQuantizer(torch.nn.Module):
    r"""Vector quantisation (VQ-VAE, van den Oord et al., NeurIPS 2017): every row
    :math:`\mathbf{x}_i` is replaced by its nearest code :math:`\mathbf{e}_{k_i}`,
    :math:`k_i = \arg\max_k s(\mathbf{x}_i, \mathbf{e}_k)` with :func:`code_scores` as
    :math:`s`. With ``"cosine"`` similarity inputs and codes are L2-normalised first, and
    :math:`\mathbf{x}` below means the normalised input. Gradients reach the input by the
    straight-through estimator :math:`\mathbf{x} + \mathrm{sg}(\mathbf{e}_{k} - \mathbf{x})`
    (or the rotation trick), and the loss is
    :math:`\beta\,\|\mathbf{x} - \mathrm{sg}(\mathbf{e}_k)\|^2` (mean over entries), plus
    :math:`\|\mathrm{sg}(\mathbf{x}) - \mathbf{e}_k\|^2` when the codebook is learned.

    With :obj:`ema=True` the codebook is a buffer updated in training mode from counts
    :math:`n_k` and sums :math:`\mathbf{s}_k` of the rows assigned to each code:
    :math:`N_k \leftarrow \gamma N_k + (1-\gamma) n_k`,
    :math:`\mathbf{m}_k \leftarrow \gamma \mathbf{m}_k + (1-\gamma) \mathbf{s}_k`,
    :math:`\mathbf{e}_k = \mathbf{m}_k / \tilde N_k` with Laplace smoothing
    :math:`\tilde N_k = (N_k + \epsilon) / (\sum_j N_j + K\epsilon) \cdot \sum_j N_j`
    (re-normalised for cosine). A fresh codebook starts at :math:`N_k = 1,
    \mathbf{m}_k = \mathbf{e}_k`. The statistics are tracked in both modes; they drive
    dead-code revival: after the update, codes with :math:`N_k` below
    :obj:`dead_code_threshold` (about "rows per batch") are replaced by random rows of the
    batch (SoundStream, Zeghidour et al., 2021), and their statistics are reset to
    :math:`N_k = \text{threshold}, \mathbf{m}_k = N_k \mathbf{e}_k`, so the next update does
    not drag them back (an optimiser keeps its state for revived rows of a learned
    codebook). Random choices use the global RNG. The defaults are VQGraph's quantiser
    (cosine, EMA decay 0.8, commitment 0.25, straight-through, no k-means, no revival),
    except that the commitment loss uses the normalised input (see :meth:`forward`).

    Args:
        num_codes (int): codebook size :math:`K`.
        dim (int): code dimension :math:`D`.
        similarity (str, optional): ``"cosine"`` or ``"euclidean"``. (default: ``"cosine"``)
        ema (bool, optional): EMA codebook updates; ``False`` learns the codebook as a
            parameter through the codebook loss. (default: ``True``)
        decay (float, optional): EMA decay :math:`\gamma` in :math:`[0, 1)`.
            (default: ``0.8``)
        eps (float, optional): Laplace smoothing :math:`\epsilon > 0`. (default: ``1e-5``)
        commitment_weight (float, optional): :math:`\beta`. (default: ``0.25``)
        kmeans_init (bool, optional): initialise the codebook by k-means (k-means++ seeding,
            then Lloyd iterations) on the first training batch; the seeding makes
            :math:`K` passes over the batch. (default: ``False``)
        kmeans_iters (int, optional): Lloyd iterations. (default: ``10``)
        dead_code_threshold (float, optional): revive codes whose EMA count falls below
            this; ``0`` disables revival. (default: ``0.0``)
        rotation_trick (bool, optional): the rotation trick of Fifty et al. (ICLR 2025)
            instead of the straight-through estimator. (default: ``False``)

    Shapes:
        - **input:** :math:`(N, D)`
        - **output:** :class:`VQOutput` with quantized :math:`(N, D)`, indices
          :math:`(N,)`, scores :math:`(N, K)` and a scalar loss
    """

    codebook: Tensor
    cluster_size: Tensor
    embed_sum: Tensor
    initialized: Tensor

    def __init__(self, num_codes: int, dim: int, similarity: str = "cosine", ema: bool = True,
                 decay: float = 0.8, eps: float = 1e-5, commitment_weight: float = 0.25,
                 kmeans_init: bool = False, kmeans_iters: int = 10,
                 dead_code_threshold: float = 0.0, rotation_trick: bool = False) -> None:
        super().__init__()
        _check_similarity(similarity)
        check_count(num_codes, "num_codes", minimum=1)
        check_count(dim, "dim", minimum=1)
        check_count(kmeans_iters, "kmeans_iters")
        for name, value, ok in [("decay", decay, 0 <= decay < 1), ("eps", eps, eps > 0),
                                ("commitment_weight", commitment_weight, commitment_weight >= 0),
                                ("dead_code_threshold", dead_code_threshold,
                                 dead_code_threshold >= 0)]:
            if not (ok and math.isfinite(value)):
                raise InputError(f"invalid '{name}' (got {value})")
        self.num_codes, self.dim, self.similarity, self.ema = num_codes, dim, similarity, ema
        self.decay, self.eps, self.commitment_weight = decay, eps, commitment_weight
        self.kmeans_init, self.kmeans_iters = kmeans_init, kmeans_iters
        self.dead_code_threshold, self.rotation_trick = dead_code_threshold, rotation_trick
        codebook = torch.empty(num_codes, dim)
        if ema:
            self.register_buffer("codebook", codebook)
        else:
            self.codebook = torch.nn.Parameter(codebook)
        self.register_buffer("cluster_size", torch.ones(num_codes))
        self.register_buffer("embed_sum", torch.empty(num_codes, dim))
        self.register_buffer("initialized", torch.tensor(False))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Draws a fresh Kaiming-uniform codebook (k-means replaces it on the next training
        batch when :obj:`kmeans_init` is set)."""
        codes = torch.nn.init.kaiming_uniform_(torch.empty_like(self.codebook))
        self.set_codebook(codes)
        self.initialized.fill_(not self.kmeans_init)

    @torch.no_grad()
    def set_codebook(self, codebook: Tensor, cluster_size: Tensor | None = None) -> None:
        r"""Sets the codes (normalised for cosine) and their EMA statistics, by default
        :math:`N_k = 1`, and marks the codebook initialised (no k-means). The sums are
        set to :math:`\mathbf{m}_k = N_k \mathbf{e}_k`.

        Args:
            codebook (Tensor): the codes :math:`(K, D)`.
            cluster_size (Tensor, optional): the EMA counts :math:`N_k`, :math:`(K)` or
                a scalar. (default: ``None``, ones)

        Raises:
            InputError: :obj:`codebook` is not :math:`(K, D)` or not finite, or
                :obj:`cluster_size` has a negative entry.
        """
        if tuple(codebook.shape) != (self.num_codes, self.dim):
            raise InputError(f"codebook must have shape {(self.num_codes, self.dim)} "
                             f"(got {tuple(codebook.shape)})")
        if not bool(torch.isfinite(codebook).all()):
            raise InputError("codebook contains NaN or infinite values")
        if cluster_size is not None and not bool((cluster_size >= 0).all()):
            raise InputError("cluster_size must be non-negative")
        codes = _l2norm(codebook) if self.similarity == "cosine" else codebook
        size = self.cluster_size.new_ones(()) if cluster_size is None else cluster_size
        self.codebook.copy_(codes)
        self.cluster_size.copy_(size)
        self.embed_sum.copy_(self.codebook * self.cluster_size.unsqueeze(-1))
        self.initialized.fill_(True)

    def forward(self, x: Tensor) -> VQOutput:
        r"""Quantises :obj:`x` of shape :math:`(N, D)`; updates the codebook in training
        mode (after a k-means initialisation on the first training batch when
        :obj:`kmeans_init` is set). With cosine similarity the loss and the
        straight-through path use the L2-normalised input.

        Args:
            x (Tensor): the inputs :math:`(N, D)`, :math:`N > 0`, of the codebook's dtype.

        Returns:
            VQOutput: the quantised inputs :math:`(N, D)`, the code indices :math:`(N)`,
            the scores against the codebook before this call's update :math:`(N, K)`
            and the scalar VQ loss.

        Raises:
            InputError: :obj:`x` is not :math:`(N, D)` with :math:`N > 0`, has another
                dtype than the codebook, or is not finite.
        """
        if x.dim() != 2 or x.size(1) != self.dim or x.size(0) == 0:
            raise InputError(f"expected input of shape (N, {self.dim}) with N > 0 "
                             f"(got {tuple(x.shape)})")
        if x.dtype != self.codebook.dtype:
            raise InputError(f"input of {x.dtype} for a codebook of {self.codebook.dtype}: cast "
                             f"one of them (e.g. x.float())")
        if not torch.isfinite(x).all():
            raise InputError("input contains NaN or infinite values")
        if self.similarity == "cosine":
            # VQGraph's copy applied the commitment MSE (and the straight-through path) to
            # the un-normalised input, which also pulls its norm towards 1; gkd, like
            # vector-quantize-pytorch 1.x, uses the normalised input throughout.
            x = _l2norm(x)
        if self.training and not bool(self.initialized):
            self._kmeans(x.detach())
        # A copy in training: the in-place updates below must not alter what backward sees.
        codebook = self.codebook.clone() if self.training else self.codebook
        if self.similarity == "cosine":
            codebook = _l2norm(codebook)  # no-op under EMA; needed for a learned codebook
        scores = code_scores(x, codebook, self.similarity)
        indices = scores.argmax(dim=-1)
        codes = codebook[indices]
        loss = self.commitment_weight * F.mse_loss(x, codes.detach())
        if not self.ema:
            loss = loss + F.mse_loss(x.detach(), codes)
        if self.rotation_trick:
            quantized = _rotate_to(x, codes.detach())
        else:
            quantized = x + (codes - x).detach()
        if self.training:
            self._update(x.detach(), indices)
        return VQOutput(quantized, indices, scores, loss)

    def usage(self, indices: Tensor) -> dict[str, float]:
        r""":func:`codebook_usage` with this codebook's size.

        Args:
            indices (Tensor): code indices, e.g. :attr:`VQOutput.indices`.

        Returns:
            dict[str, float]: ``{"perplexity", "dead_fraction"}``.
        """
        return codebook_usage(indices, self.num_codes)

    # --- training-time updates -------------------------------------------------------

    def _assign(self, x: Tensor, codes: Tensor) -> Tensor:
        return code_scores(x, codes, self.similarity).argmax(dim=-1)

    def _sums(self, x: Tensor, indices: Tensor) -> tuple[Tensor, Tensor]:
        counts = torch.bincount(indices, minlength=self.num_codes).to(x.dtype)
        return counts, x.new_zeros(self.num_codes, self.dim).index_add_(0, indices, x)

    @torch.no_grad()
    def _kmeans(self, x: Tensor) -> None:
        # k-means++ seeding: each next seed is drawn with probability ∝ squared distance to
        # the nearest seed so far (x is already normalised for cosine); in float32, where
        # squared distances and counts do not overflow.
        x = _at_least_float32(x)
        seeds = [int(torch.randint(x.size(0), (1,), device=x.device))]
        d2 = (x - x[seeds[0]]).pow(2).sum(-1)
        for _ in range(self.num_codes - 1):
            weights = d2 if bool(d2.sum() > 0) else torch.ones_like(d2)  # fewer points than K
            seeds.append(int(torch.multinomial(weights, 1)))
            d2 = torch.minimum(d2, (x - x[seeds[-1]]).pow(2).sum(-1))
        codes = x[seeds].clone()
        for _ in range(self.kmeans_iters):
            counts, sums = self._sums(x, self._assign(x, codes))
            means = sums / counts.clamp_min(1).unsqueeze(-1)
            if self.similarity == "cosine":
                means = _l2norm(means)
            codes = torch.where((counts > 0).unsqueeze(-1), means, codes)  # empty: keep
        counts, _ = self._sums(x, self._assign(x, codes))
        self.set_codebook(codes, counts.clamp_min(1))  # an empty code counts as one row

    @torch.no_grad()
    def _update(self, x: Tensor, indices: Tensor) -> None:
        counts, sums = self._sums(_at_least_float32(x), indices)  # counts overflow float16
        self.cluster_size.lerp_(counts.to(self.cluster_size), 1 - self.decay)
        self.embed_sum.lerp_(sums.to(self.embed_sum), 1 - self.decay)
        if self.ema:
            total = self.cluster_size.sum()
            smoothed = (self.cluster_size + self.eps) / (total + self.num_codes * self.eps)
            codes = self.embed_sum / (smoothed * total).unsqueeze(-1)
            if self.similarity == "cosine":
                # A long-unused code's sums decay to nothing: keep its direction rather
                # than a vector too short to normalise.
                norm = codes.norm(dim=-1, keepdim=True)
                codes = torch.where(norm >= _norm_floor(codes.dtype), codes / norm,
                                    self.codebook)
            self.codebook.copy_(codes)
        if self.dead_code_threshold > 0:
            self._revive(x)

    @torch.no_grad()
    def _revive(self, x: Tensor) -> None:
        dead = (self.cluster_size < self.dead_code_threshold).nonzero().flatten()
        if dead.numel() == 0:
            return
        rows = torch.randperm(x.size(0), device=x.device)[:dead.numel()]
        if dead.numel() > rows.numel():  # more dead codes than rows: a random share of them
            dead = dead[torch.randperm(dead.numel(), device=dead.device)[:rows.numel()]]
        self.codebook[dead] = x[rows].to(self.codebook)
        self.cluster_size[dead] = self.dead_code_threshold
        self.embed_sum[dead] = self.codebook[dead] * self.dead_code_threshold

    def _apply(self, fn: Any, recurse: bool = True) -> VectorQuantizer:
        super()._apply(fn, recurse)
        # The EMA statistics count rows (beyond float16's 65,504 in one full batch): a
        # half-precision module keeps them in float32.
        self.cluster_size = _at_least_float32(self.cluster_size)
        self.embed_sum = _at_least_float32(self.embed_sum)
        return self

    def extra_repr(self) -> str:
        return (f"{self.num_codes}, {self.dim}, similarity={self.similarity}, ema={self.ema}, "
                f"decay={self.decay}, commitment_weight={self.commitment_weight}")
