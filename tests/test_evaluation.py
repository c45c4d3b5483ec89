import pytest
import torch

from gkd.evaluation import accuracy


def test_accuracy_matches_the_ogb_node_evaluator():
    from ogb.nodeproppred import Evaluator

    gen = torch.Generator().manual_seed(0)
    logits, y = torch.randn(200, 5, generator=gen), torch.randint(5, (200,), generator=gen)
    evaluator = Evaluator("ogbn-arxiv")
    ogb = evaluator.eval({"y_true": y.view(-1, 1), "y_pred": logits.argmax(-1, keepdim=True)})
    assert accuracy(logits, y) == 100.0 * ogb["acc"]


def test_accuracy_refuses_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="5 predictions for 4 labels"):
        accuracy(torch.zeros(5, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="no predictions"):
        accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


def test_accuracy_takes_ogbs_column_labels_and_names_other_shapes():
    from gkd.errors import InputError

    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert accuracy(logits, torch.tensor([[0], [1], [1]])) == pytest.approx(200 / 3)
    with pytest.raises(InputError, match=r"logits \(N, C\) and integer labels"):
        accuracy(torch.tensor([0.2, 0.9, 0.1]), torch.tensor([1, 1, 0]))
    with pytest.raises(InputError, match="integer labels"):
        accuracy(logits, torch.tensor([0.0, 1.0, 1.0]))


def test_accuracy_refuses_nan_logits():
    with pytest.raises(ValueError, match="the logits contain NaN"):
        accuracy(torch.full((4, 3), float("nan")), torch.zeros(4, dtype=torch.long))
    assert accuracy(torch.tensor([[0.0, float("-inf")]]), torch.tensor([0])) == 100.0
