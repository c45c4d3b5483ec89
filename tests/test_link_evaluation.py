import pytest
import torch
from ogb.linkproppred import Evaluator

from gkd.data.links import make_link_task
from gkd.data.synthetic import contextual_sbm
from gkd.link_evaluation import evaluate_links, hits_at_k, logged_link_metrics, mrr


@pytest.mark.parametrize("k", [1, 20, 50])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hits_at_k_matches_the_ogb_evaluator(k, seed):
    generator = torch.Generator().manual_seed(seed)
    pos, neg = torch.rand(300, generator=generator), torch.rand(200, generator=generator)
    pos[:10] = neg.sort(descending=True).values[k - 1]  # ties with the threshold miss
    evaluator = Evaluator("ogbl-ddi")
    evaluator.K = k
    expected = evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})[f"hits@{k}"]
    assert hits_at_k(pos, neg, k) == expected  # to the last bit, as OGB divides in double


def test_hits_at_k_with_too_few_negatives_is_one_with_a_warning():
    with pytest.warns(UserWarning, match="only 3 negatives"):
        assert hits_at_k(torch.zeros(5), torch.ones(3), 20) == 1.0


def test_mrr_matches_the_ogb_evaluator():
    generator = torch.Generator().manual_seed(0)
    pos, neg = torch.rand(100, generator=generator), torch.rand(100, 30, generator=generator)
    neg[:5, :3] = pos[:5, None]  # ties
    expected = Evaluator("ogbl-citation2").eval({"y_pred_pos": pos, "y_pred_neg": neg})
    assert mrr(pos, neg) == pytest.approx(float(expected["mrr_list"].mean()))


def test_logged_metrics_add_hits_at_more_ks_and_the_auc():
    task = make_link_task(contextual_sbm(300, avg_degree=6, num_features=8, seed=0), seed=0)

    def score(h, pairs):
        return (h[pairs[0]] * h[pairs[1]]).sum(-1)

    logged = logged_link_metrics(task, lambda g: g.x, score)
    assert set(logged) == set(evaluate_links(task, lambda g: g.x, score)) == {"val", "test"}
    pos, neg = score(task.graph.x, task.val.pos), score(task.graph.x, task.val.neg)
    # the AUC is the chance that a positive outscores a negative, ties counting half
    above = (pos[:, None] > neg[None]).float() + 0.5 * (pos[:, None] == neg[None]).float()
    assert logged["val"]["auc"] == pytest.approx(100 * float(above.mean()))
    assert logged["val"]["hits@10"] == pytest.approx(100 * hits_at_k(pos, neg, 10))
    assert neg.numel() < 100 and "hits@100" not in logged["val"]  # too few negatives


def test_bad_link_metric_inputs_are_named():
    from gkd.errors import InputError

    pos, neg = torch.tensor([0.5, 0.9]), torch.tensor([[0.1, 0.7], [0.2, 0.95]])
    with pytest.raises(InputError, match=r"negatives \(P, M\); got 2 positives and negatives "
                                         r"of shape \(4,\)"):
        mrr(pos, neg.reshape(-1))
    with pytest.raises(InputError, match=r"M >= 1 negatives \(P, M\); got 2 positives and "
                                         r"negatives of shape \(2, 0\)"):
        mrr(pos, neg[:, :0])
    for k in (0, -1, 2.5):
        with pytest.raises(InputError, match="K must be an integer of at least 1"):
            hits_at_k(pos, neg.view(-1), k)
    with pytest.raises(InputError, match="NaN or infinite"):
        hits_at_k(pos, torch.tensor([float("nan"), 0.0, 0.0]), 2)


def test_hits_and_mrr_take_numpy_scores_and_strided_tensors():
    import numpy as np

    rng = np.random.RandomState(0)
    pos, neg = rng.randn(50), rng.randn(100)
    evaluator = Evaluator("ogbl-ddi")
    evaluator.K = 20
    expected = evaluator.eval({"y_pred_pos": pos, "y_pred_neg": neg})["hits@20"]
    assert hits_at_k(pos, neg, 20) == pytest.approx(expected)
    strided = torch.from_numpy(neg).view(4, 25).t()  # not contiguous
    assert hits_at_k(torch.from_numpy(pos), strided, 20) == pytest.approx(expected)
    assert mrr(pos[:4], rng.randn(4, 3)) > 0
