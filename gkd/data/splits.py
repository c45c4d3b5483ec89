"""Node splits: GLNN/CPF per-class sampling, random fractions, official masks, and
the inductive hold-out of test nodes.

All functions return sorted ``torch.long`` index tensors.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gkd.errors import GkdError


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
    """
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
    r"""Random fractions :obj:`train` / :obj:`val` of the nodes; the rest is test."""
    if not (0 < train and 0 < val and train + val < 1):
        raise GkdError(f"random split fractions must be positive and sum below 1; "
                       f"got train={train}, val={val}")
    perm = torch.randperm(num_nodes, generator=torch.Generator().manual_seed(seed))
    n_train, n_val = int(round(train * num_nodes)), int(round(val * num_nodes))
    parts = perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]
    return tuple(p.sort().values for p in parts)  # type: ignore[return-value]


def mask_split(train_mask: Tensor, val_mask: Tensor, test_mask: Tensor,
               column: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    r"""Indices from official masks; 2-D masks ``[N, num_splits]`` use :obj:`column`
    modulo the number of splits."""
    def pick(mask: Tensor) -> Tensor:
        if mask.dim() == 2:
            mask = mask[:, column % mask.size(1)]
        return mask.nonzero().view(-1)

    return pick(train_mask), pick(val_mask), pick(test_mask)


def inductive_split(test_idx: Tensor, rate: float = 0.2, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""GLNN's production hold-out: a share :obj:`rate` of the test nodes, chosen by a
    ``torch.randperm`` seeded with :obj:`seed`, becomes ``test_ind``; the rest is
    ``test_tran``.

    Returns:
        (test_tran, test_ind)
    """
    if not 0 < rate < 1:
        raise GkdError(f"inductive split rate must lie in (0, 1); got {rate}")
    perm = torch.randperm(test_idx.numel(), generator=torch.Generator().manual_seed(seed))
    cut = int(test_idx.numel() * rate)
    return test_idx[perm[cut:]].sort().values, test_idx[perm[:cut]].sort().values
