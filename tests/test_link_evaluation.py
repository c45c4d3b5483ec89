import pytest
import torch
from ogb.linkproppred import Evaluator

from gkd.link_evaluation import hits_at_k, mrr


@pytest.mark.parametrize("k", [1, 20, 50])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hits_at_k_matches_the_ogb_evaluator(k, seed):
    generator = torch.Generator().manual_seed(seed)
    pos, neg = torch.rand(300, generator=generator), torch.rand(200, generator=generator)
    pos[:10] = neg.sort(descending=True).values[k - 1]  # ties with the threshold miss
    evaluator = Evaluator("ogbl-ddi")
    evaluator.K = k
    expected = evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})[f"hits@{k}"]
    assert hits_at_k(pos, neg, k) == pytest.approx(expected)


def test_hits_at_k_with_too_few_negatives_is_one_with_a_warning():
    with pytest.warns(UserWarning, match="only 3 negatives"):
        assert hits_at_k(torch.zeros(5), torch.ones(3), 20) == 1.0


def test_mrr_matches_the_ogb_evaluator():
    generator = torch.Generator().manual_seed(0)
    pos, neg = torch.rand(100, generator=generator), torch.rand(100, 30, generator=generator)
    neg[:5, :3] = pos[:5, None]  # ties
    expected = Evaluator("ogbl-citation2").eval({"y_pred_pos": pos, "y_pred_neg": neg})
    assert mrr(pos, neg) == pytest.approx(float(expected["mrr_list"].mean()))
