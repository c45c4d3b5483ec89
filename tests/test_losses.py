import math

import pytest
import torch

from gkd.errors import GkdError
from gkd.losses import (
    js_divergence,
    kl_divergence,
    logit_mse,
    masked_cross_entropy,
    rank_margin_loss,
    reverse_kl_divergence,
)

STUDENT = torch.tensor([[0.0, math.log(3.0)]])   # softmax -> (1/4, 3/4)
TEACHER = torch.tensor([[0.0, 0.0]])             # softmax -> (1/2, 1/2)


def test_kl_matches_hand_computation():
    # KL(p_T || p_S) = 1/2 ln((1/2)/(1/4)) + 1/2 ln((1/2)/(3/4))
    expected = 0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)
    assert kl_divergence(STUDENT, TEACHER).item() == pytest.approx(expected, abs=1e-6)


def test_reverse_kl_matches_hand_computation():
    expected = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert reverse_kl_divergence(STUDENT, TEACHER).item() == pytest.approx(expected, abs=1e-6)


def test_js_matches_hand_computation():
    p, q = [0.25, 0.75], [0.5, 0.5]
    m = [(a + b) / 2 for a, b in zip(p, q)]
    kl = lambda a, b: sum(x * math.log(x / y) for x, y in zip(a, b))  # noqa: E731
    expected = 0.5 * kl(p, m) + 0.5 * kl(q, m)
    assert js_divergence(STUDENT, TEACHER).item() == pytest.approx(expected, abs=1e-6)
    assert js_divergence(TEACHER, STUDENT).item() == pytest.approx(expected, abs=1e-6)


def test_temperature_softens_and_scales_by_tau_squared():
    # at tau = 2 the student's logits become (0, ln 3 / 2): softmax (1/(1+sqrt3), sqrt3/(1+sqrt3))
    s = 1.0 / (1.0 + math.sqrt(3.0))
    expected = 4.0 * (0.5 * math.log(0.5 / s) + 0.5 * math.log(0.5 / (1 - s)))
    assert kl_divergence(STUDENT, TEACHER, temperature=2.0).item() == pytest.approx(expected,
                                                                                   abs=1e-6)


def test_logit_mse_and_reductions():
    assert logit_mse(STUDENT, TEACHER).item() == pytest.approx(math.log(3.0) ** 2 / 2, abs=1e-6)
    both_s, both_t = STUDENT.repeat(3, 1), TEACHER.repeat(3, 1)
    per_node = kl_divergence(both_s, both_t, reduction="none")
    assert per_node.shape == (3,)
    assert kl_divergence(both_s, both_t, reduction="sum").item() == pytest.approx(
        3 * per_node[0].item())


@pytest.mark.parametrize("loss", [kl_divergence, reverse_kl_divergence, js_divergence,
                                  logit_mse])
def test_the_mean_over_no_nodes_is_zero_and_differentiable(loss):
    student = torch.empty(0, 3, requires_grad=True)
    value = loss(student, torch.empty(0, 3))
    assert value.item() == 0.0
    value.backward()
    assert student.grad is not None and student.grad.shape == (0, 3)


def test_divergences_vanish_on_equal_inputs_and_reject_bad_input():
    z = torch.randn(5, 4)
    for loss in (kl_divergence, reverse_kl_divergence, js_divergence):
        assert loss(z, z).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"student's logits \(5, 3\) and the teacher's \(5, 4\)"):
        kl_divergence(z[:, :3], z)
    with pytest.raises(GkdError, match=r"student's logits \(5, 4\) and the teacher's \(5, 3\)"):
        reverse_kl_divergence(z, z[:, :3])
    with pytest.raises(ValueError, match="temperature"):
        kl_divergence(z, z, temperature=0.0)
    with pytest.raises(GkdError, match="positive and finite"):
        js_divergence(z, z, temperature=math.inf)


def test_classes_the_teacher_rules_out_count_zero_ln_zero():
    # a one-hot teacher as logits: KL is the cross-entropy to its class, JS stays finite
    student = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    one_hot = torch.tensor([[0.0, -math.inf, -math.inf]], requires_grad=True)
    loss = kl_divergence(student, one_hot, temperature=2.0)
    expected = -4.0 * torch.log_softmax(student.detach() / 2.0, dim=-1)[0, 0].item()
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    js = js_divergence(student, one_hot, temperature=2.0)
    assert 0.0 < js.item() < 4.0 * math.log(2.0)
    (loss + js + reverse_kl_divergence(one_hot, one_hot)).backward()
    assert torch.isfinite(student.grad).all() and torch.isfinite(one_hot.grad).all()


def test_rank_loss_is_zero_when_the_student_orders_like_the_teacher_beyond_the_margin():
    teacher = torch.tensor([[0.9, 0.5, 0.1, 0.52], [0.2, 0.8, 0.6, 0.4]])
    student = 3 * teacher  # same order, every teacher-ordered gap now exceeds the margin
    assert rank_margin_loss(student, teacher, margin=0.1) == 0
    assert rank_margin_loss(student.flip(-1), teacher, margin=0.1) > 0
    assert rank_margin_loss(0.1 * teacher, teacher, margin=0.1) > 0  # same order, gaps < margin


def test_rank_loss_leaves_teacher_ties_out_of_the_mean():
    teacher = torch.tensor([[0.9, 0.1, 0.1]])  # (1, 2) is tied
    student = torch.tensor([[0.1, 0.9, 0.5]])  # (0, 1) and (0, 2) reversed
    expected = ((0.1 + 0.8) + (0.1 + 0.4)) / 2
    assert rank_margin_loss(student, teacher, margin=0.1) == pytest.approx(expected)


def test_masked_cross_entropy_counts_only_masked_rows_and_is_zero_without_any():
    logits = torch.tensor([[2.0, 0.0], [0.0, 5.0], [1.0, 1.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1])
    mask = torch.tensor([True, False, True])
    expected = (math.log(1 + math.exp(-2.0)) + math.log(2.0)) / 2
    assert math.isclose(masked_cross_entropy(logits, y, mask).item(), expected, rel_tol=1e-6)
    assert masked_cross_entropy(logits, y, torch.zeros(3, dtype=torch.bool)).item() == 0.0


def test_masked_cross_entropy_refuses_integer_masks():
    # an integer mask would index rows 0, 0, 1, 1 instead of selecting rows 2 and 3
    with pytest.raises(GkdError, match="boolean vector of the 4 rows; got torch.int64"):
        masked_cross_entropy(torch.randn(4, 3), torch.tensor([0, 1, 2, 0]),
                             torch.tensor([0, 0, 1, 1]))
