import hashlib

import pytest
import torch

from gkd.data import inductive_split, load_node_task, mask_split, per_class_split, random_split
from gkd.data.splits import check_fractions
from gkd.errors import GkdError


def _labels(num_classes=4, per_class=60, seed=0):
    y = torch.arange(num_classes).repeat_interleave(per_class)
    return y[torch.randperm(y.numel(), generator=torch.Generator().manual_seed(seed))]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_per_class_split_counts_and_disjointness(seed):
    y = _labels()
    train, val, test = per_class_split(y, 20, 30, seed=seed)
    assert torch.bincount(y[train]).tolist() == [20] * 4
    assert torch.bincount(y[val]).tolist() == [30] * 4
    every = torch.cat([train, val, test])
    assert every.numel() == y.numel() and every.unique().numel() == y.numel()


def test_per_class_split_is_seeded():
    y = _labels()
    a, b = per_class_split(y, seed=3), per_class_split(y, seed=3)
    c = per_class_split(y, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_per_class_split_names_short_classes():
    y = torch.tensor([0] * 60 + [1] * 10)
    with pytest.raises(GkdError, match=r"classes \[1\] have only \[10\]"):
        per_class_split(y)


def test_random_split_fractions():
    train, val, test = random_split(100, 0.6, 0.2, seed=0)
    assert (train.numel(), val.numel(), test.numel()) == (60, 20, 20)
    assert torch.cat([train, val, test]).unique().numel() == 100
    with pytest.raises(GkdError):
        random_split(100, 0.9, 0.2)


def test_mask_split_handles_2d_masks():
    masks = torch.zeros(6, 2, dtype=torch.bool)
    masks[0, 0] = masks[1, 1] = True
    assert mask_split(masks, masks, masks, column=1)[0].tolist() == [1]
    assert mask_split(masks, masks, masks, column=2)[0].tolist() == [0]


def test_inductive_split_shares():
    test = torch.arange(100, 200)
    tran, ind = inductive_split(test, 0.2, seed=0)
    assert (tran.numel(), ind.numel()) == (80, 20)
    assert torch.equal(torch.cat([tran, ind]).sort().values, test)


def test_inductive_split_that_holds_out_nothing_is_named():
    assert inductive_split(torch.arange(5), 0.2)[1].numel() == 1
    with pytest.raises(GkdError, match="rate 0.2 of 4 test nodes rounds down to 0"):
        inductive_split(torch.arange(4), 0.2)


@pytest.mark.parametrize("fractions", [{"a": 0.0}, {"a": 1.0}, {"a": float("nan")},
                                       {"a": 0.5, "b": 0.5}, {"a": -0.1, "b": 0.5}])
def test_fractions_outside_the_unit_interval_are_named(fractions):
    check_fractions("shares", a=0.5, b=0.4)
    with pytest.raises(GkdError, match=r"shares must lie in \(0, 1\) .*; got a="):
        check_fractions("shares", **fractions)


@pytest.mark.datasets
def test_cpf_cora_split_matches_reference_sizes_and_hash(data_root):
    """Pins the seed-0 CPF split of the npz Cora after LCC (GLNN's node order)."""
    task = load_node_task("cora", "cpf", seed=0, root=data_root)
    assert task.sizes() == {"num_nodes": 2485, "num_edges": 5069, "train": 140, "val": 210,
                            "test": 2135}
    digest = hashlib.sha256()
    for idx in (task.train_idx, task.val_idx, task.test_idx):
        digest.update(idx.numpy().tobytes())
    assert digest.hexdigest()[:16] == "b6c4cd73dce9549f"
