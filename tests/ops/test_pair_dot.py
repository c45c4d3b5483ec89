import pytest
import torch

from gkd.errors import GkdError
from gkd.ops import pair_dot


def _rows_gathered(x, pairs):
    return (x[pairs[0]] * x[pairs[1]]).sum(dim=-1)


def test_pair_dot_matches_gathered_rows_in_value_and_gradient():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(30, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    pairs = torch.randint(30, (2, 200), generator=generator)
    pairs[:, 7] = pairs[:, 3]  # a repeated pair
    pairs[:, 8] = pairs[[1, 0], 3]  # and its reverse
    weights = torch.randn(200, dtype=torch.float64, generator=generator)
    fast, = torch.autograd.grad((pair_dot(x, pairs) * weights).sum(), x)
    slow, = torch.autograd.grad((_rows_gathered(x, pairs) * weights).sum(), x)
    assert torch.allclose(pair_dot(x, pairs), _rows_gathered(x, pairs))
    assert torch.allclose(fast, slow)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_pair_dot_takes_half_precision(dtype):
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(-3, 4, (10, 4), generator=generator).to(dtype).requires_grad_()
    pairs = torch.randint(10, (2, 20), generator=generator)
    scores = pair_dot(x, pairs)
    assert scores.dtype == dtype and torch.equal(scores, _rows_gathered(x, pairs))
    scores.sum().backward()
    assert x.grad.dtype == dtype


def test_pair_dot_keeps_the_order_of_the_pairs_and_is_deterministic():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    pairs = torch.tensor([[2, 0, 1, 2], [1, 2, 1, 2]])
    assert pair_dot(x, pairs).tolist() == [2.0, 3.0, 4.0, 10.0]
    x = torch.randn(500, 16, requires_grad=True)
    pairs = torch.randint(500, (2, 5000))
    grads = [torch.autograd.grad(pair_dot(x, pairs).square().sum(), x)[0] for _ in range(2)]
    assert torch.equal(*grads)


@pytest.mark.parametrize("pairs, message", [
    (torch.tensor([[0], [5]]), r"in \[0, 3\); pairs holds ids from 0 to 5"),
    (torch.tensor([[-1, 2], [0, 1]]), r"in \[0, 3\); pairs holds ids from -1 to 2"),
    (torch.tensor([[0.0], [1.0]]), r"pairs must be an integer tensor of shape \[2, E\]"),
    (torch.tensor([0, 1]), r"pairs must be an integer tensor of shape \[2, E\]"),
])
def test_pair_dot_rejects_pairs_that_are_not_node_ids(pairs, message):
    with pytest.raises(GkdError, match=message):
        pair_dot(torch.randn(3, 2), pairs)


def test_pair_dot_takes_int32_pairs_of_many_nodes():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(50_000, 4, generator=generator)
    pairs = torch.randint(50_000, (2, 1000), generator=generator)  # u * N + v > 2**31
    assert torch.equal(pair_dot(x, pairs.int()), pair_dot(x, pairs))
