"""Node splits: GLNN/CPF per-class sampling, random fractions, official masks, and
the inductive hold-out of test nodes.

All functions return sorted ``torch.long`` index tensors.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import Tensor

from gkd.errors import GkdError
from gkd.ops.checks import check_count, integer_bounds, is_integer


def check_seed(seed: int) -> int:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`seed` is an integer in
    :math:`[0, 2^{32})` (``bool`` excluded; numpy integers are fine), as the split
    samplers need: numpy refuses larger seeds, and torch keeps only their low 32 bits.

    Returns:
        int: :obj:`seed` as a Python ``int``.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not \
            0 <= seed < 2**32:
        raise GkdError(f"the split seed must be an integer in [0, 2**32); got {seed!r} (numpy "
                       f"and torch seed with 32 bits)")
    return int(seed)


def check_fractions(what: str, **fractions: float) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` naming :obj:`what` unless every fraction
    lies in :math:`(0, 1)` and together they sum to less than 1.

    Args:
        what (str): what the fractions are, for the message (e.g. ``"split ratios"``).
        **fractions (float): the fractions by name.
    """
    if any(not 0 < f < 1 for f in fractions.values()) or sum(fractions.values()) >= 1:
        shown = ", ".join(f"{name}={value}" for name, value in fractions.items())
        raise GkdError(f"{what} must lie in (0, 1) and sum to less than 1; got {shown}")


def per_class_split(y: Tensor, num_train_per_class: int = 20, num_val_per_class: int = 30,
                    seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    r"""The GLNN/CPF split: per class, :obj:`num_train_per_class` training nodes, then
    per class :obj:`num_val_per_class` validation nodes; every other node is test.

    The sampler makes the same sequence of calls on a legacy NumPy
    ``RandomState(seed)`` as the reference (class by class in class-index order,
    ``choice(..., replace=False)`` over the class's nodes in ascending order), so on
    the same node order it reproduces the reference split exactly.

    Args:
        y (Tensor): class indices of shape ``[N]``.
        num_train_per_class (int, optional): training nodes per class. (default: ``20``)
        num_val_per_class (int, optional): validation nodes per class. (default: ``30``)
        seed (int, optional): the split seed. (default: ``0``)

    Returns:
        ``(train_idx, val_idx, test_idx)``.

    Raises:
        GkdError: a per-class count is not a non-negative integer, or a class has fewer
            than ``num_train_per_class + num_val_per_class`` nodes.
    """
    check_count(num_train_per_class, "num_train_per_class")
    check_count(num_val_per_class, "num_val_per_class")
    labels = y.cpu().numpy()
    num_classes = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=num_classes)
    short = [c for c in range(num_classes) if counts[c] < num_train_per_class + num_val_per_class]
    if short:
        raise GkdError(
            f"per-class split needs {num_train_per_class}+{num_val_per_class} nodes per class; "
            f"classes {short} have only {[int(counts[c]) for c in short]}")
    rng = np.random.RandomState(seed)
    taken = np.zeros(labels.shape[0], dtype=bool)

    def draw(per_class: int) -> np.ndarray:
        picked = np.concatenate([
            rng.choice(np.flatnonzero((labels == c) & ~taken), per_class, replace=False)
            for c in range(num_classes)])
        taken[picked] = True
        return np.sort(picked)

    train, val = draw(num_train_per_class), draw(num_val_per_class)
    return torch.from_numpy(train), torch.from_numpy(val), torch.from_numpy(np.flatnonzero(~taken))


def random_split(num_nodes: int, train: float = 0.6, val: float = 0.2,
                 seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    r"""Random fractions :obj:`train` / :obj:`val` of the nodes; the rest is test.

    One ``torch.randperm`` seeded with :obj:`seed` is cut after
    ``round(train * num_nodes)`` and ``round(val * num_nodes)`` nodes; on very small
    graphs a part may be empty.

    Args:
        num_nodes (int): the number of nodes.
        train (float, optional): the training fraction. (default: ``0.6``)
        val (float, optional): the validation fraction. (default: ``0.2``)
        seed (int, optional): the split seed. (default: ``0``)

    Returns:
        ``(train_idx, val_idx, test_idx)``.

    Raises:
        GkdError: a fraction lies outside :math:`(0, 1)`, or both sum to 1 or more.
    """
    check_fractions("random split fractions", train=train, val=val)
    perm = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(seed))
    n_train, n_val = int(round(train * num_nodes)), int(round(val * num_nodes))
    parts = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    return tuple(p.sort().values for p in parts)  # type: ignore[return-value]


def mask_split(train_mask: Tensor, val_mask: Tensor, test_mask: Tensor,
               column: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    r"""Indices from official masks; 2-D masks ``[N, num_splits]`` use :obj:`column`
    modulo the number of splits.

    Args:
        train_mask (Tensor): boolean mask ``[N]`` or ``[N, num_splits]``.
        val_mask (Tensor): likewise.
        test_mask (Tensor): likewise.
        column (int, optional): the split to take from 2-D masks (e.g. the seed); 1-D
            masks ignore it. (default: ``0``)

    Returns:
        ``(train_idx, val_idx, test_idx)``, on the masks' device.
    """
    def pick(mask: Tensor) -> Tensor:
        if mask.dim() == 2:
            mask = mask[:, column % mask.size(1)]
        return mask.nonzero().view(-1)

    return pick(train_mask), pick(val_mask), pick(test_mask)


def inductive_split(test_idx: Tensor, rate: float = 0.2, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""GLNN's production hold-out: a share :obj:`rate` of the test nodes, chosen by a
    ``torch.randperm`` seeded with :obj:`seed`, becomes ``test_ind``; the rest is
    ``test_tran``.

    Args:
        test_idx (Tensor): the test nodes.
        rate (float, optional): the held-out share, rounded down to whole nodes.
            (default: ``0.2``)
        seed (int, optional): the hold-out seed. (default: ``0``)

    Returns:
        ``(test_tran, test_ind)``, on :obj:`test_idx`'s device.

    Raises:
        GkdError: :obj:`rate` is outside :math:`(0, 1)`, or so small for the number of
            test nodes that ``test_ind`` would be empty.
    """
    check_fractions("inductive split rate", rate=rate)
    cut = int(test_idx.numel() * rate)
    if cut == 0:
        raise GkdError(f"the inductive hold-out is empty: rate {rate} of {test_idx.numel()} "
                       f"test nodes rounds down to 0; use a larger split rate or more test nodes")
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(test_idx.numel(), generator=generator).to(test_idx.device)
    return test_idx[perm[cut:]].sort().values, test_idx[perm[:cut]].sort().values


def check_split_index(name: str, idx: Tensor, size: int, item: str = "node") -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`idx` is a non-empty 1-D
    integer index of distinct ids in ``0..size-1`` (a boolean mask is named as such).

    Args:
        name (str): the split's name, e.g. ``"train"``.
        idx (Tensor): the split's indices.
        size (int): the number of items.
        item (str, optional): what the ids count, for the messages. (default: ``"node"``)
    """
    if idx.numel() == 0:
        raise GkdError(f"the {name} split is empty")
    if idx.dtype == torch.bool:
        raise GkdError(f"the {name} split is a boolean mask; pass {item} indices "
                       f"(mask.nonzero().view(-1))")
    if not is_integer(idx) or idx.dim() != 1:
        raise GkdError(f"the {name} split must be a 1-D integer index tensor; got dtype "
                       f"{idx.dtype} and shape {tuple(idx.shape)}")
    low, high = integer_bounds(idx)  # python ints: not in a narrow dtype
    if low < 0 or high >= size:
        raise GkdError(f"the {name} split refers to {item}s outside 0..{size - 1}")
    repeated = idx.numel() - idx.unique().numel()
    if repeated:
        raise GkdError(f"the {name} split lists {item}s more than once ({repeated} repeats)")
