import math

import pytest
import torch
from torch_geometric.utils import to_undirected

from gkd.errors import GkdError
from gkd.ops import CSRGraph
from gkd.reliability import (
    entropy_reliability,
    fit_alpha,
    knowledge_reliability,
    prediction_entropy,
    sample_reliable_pairs,
    sampling_probability,
)


def _features_and_map(num_nodes=40, num_features=8, num_classes=4):
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(num_nodes, num_features, generator=gen)
    weight = torch.randn(num_features, num_classes, generator=gen)
    return x, weight


def _random_graph(num_nodes, num_edges, seed=0, undirected=False):
    gen = torch.Generator().manual_seed(seed)
    edge_index = torch.randint(0, num_nodes, (2, num_edges), generator=gen)
    edge_index = edge_index[:, edge_index[0] != edge_index[1]]
    if undirected:
        edge_index = to_undirected(edge_index, num_nodes=num_nodes)
    return edge_index, CSRGraph.from_edge_index(edge_index, num_nodes)


# --- entropy and reliability -----------------------------------------------------------


def test_prediction_entropy_known_values_and_extreme_logits():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1000.0, -1000.0, 0.0, 0.0],
                           [0.0, -math.inf, 0.0, -math.inf]])
    entropy = prediction_entropy(logits)
    assert torch.allclose(entropy, torch.tensor([math.log(4), 0.0, math.log(2)]), atol=1e-6)
    assert torch.isfinite(entropy).all()


def test_reliability_is_zero_for_teacher_that_ignores_features():
    x, weight = _features_and_map()
    fixed = x @ weight
    rho = knowledge_reliability(lambda _: fixed, x, generator=torch.Generator().manual_seed(0))
    assert rho.shape == (40,)
    assert torch.equal(rho, torch.zeros(40))


def test_reliability_is_positive_and_normalised_for_feature_teacher():
    x, weight = _features_and_map()
    rho = knowledge_reliability(lambda f: f @ weight, x, noise_std=0.5, draws=3,
                                generator=torch.Generator().manual_seed(0))
    assert (rho > 0).any()
    assert rho.max().item() == 1.0
    assert ((rho >= 0) & (rho <= 1)).all()
    assert not rho.is_inference()


def test_rank_scale_orders_changes_evenly_with_shared_ranks_for_ties():
    x = torch.zeros(5, 1)
    clean = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 0.0]])
    # any noise shifts the first logit of nodes 1-3: the same for 1 and 2, most for 3
    shift = torch.tensor([[0.0, 0.0], [0.3, 0.0], [0.3, 0.0], [2.0, 0.0], [0.0, 0.0]])

    def teacher(f):
        return clean + (f != x).to(f.dtype) * shift

    rho = knowledge_reliability(teacher, x, scale="rank",
                                generator=torch.Generator().manual_seed(0))
    # nodes 0 and 4 do not change (rank 0); 1 and 2 tie above them; 3 changes most
    assert torch.equal(rho, torch.tensor([0.0, 0.5, 0.5, 1.0, 0.0]))
    unchanged = knowledge_reliability(lambda _: clean, x, scale="rank")
    assert torch.equal(unchanged, torch.zeros(5))


def test_entropy_reliability_ranks_confident_predictions_as_reliable():
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [9.0, 0.0, 0.0]])
    entropy = prediction_entropy(logits)
    assert torch.allclose(entropy_reliability(logits), entropy / math.log(3))
    assert torch.equal(entropy_reliability(logits, scale="rank"),
                       torch.tensor([1 / 3, 1.0, 2 / 3, 0.0]))
    with pytest.raises(GkdError, match="shape"):
        entropy_reliability(logits[0])
    with pytest.raises(GkdError, match="NaN"):
        entropy_reliability(torch.full((2, 3), math.nan))
    with pytest.raises(GkdError, match="infinite"):
        entropy_reliability(torch.tensor([[math.inf, 0.0]]))
    with pytest.raises(GkdError, match="reliability scale 'mean'"):
        entropy_reliability(logits, scale="mean")


@pytest.mark.parametrize("scale", ["max", "rank"])
@pytest.mark.parametrize("top_logit", [0.0, 30.0, 200.0])
def test_a_teacher_equally_sure_everywhere_leaves_no_node_less_reliable(scale, top_logit):
    logits = torch.tensor([top_logit, 0.0, 0.0]).expand(4, 3)
    assert torch.equal(entropy_reliability(logits, scale=scale), torch.zeros(4))


def test_reliability_is_seeded_and_averages_draws():
    x, weight = _features_and_map()

    def predict(f):
        return f @ weight

    def run(seed):
        return knowledge_reliability(predict, x, noise_std=0.7, draws=4,
                                     generator=torch.Generator().manual_seed(seed))

    rho = run(3)
    assert torch.equal(rho, run(3))
    assert not torch.equal(rho, run(4))
    assert ((rho >= 0) & (rho <= 1)).all()
    # the mean absolute entropy change over the same four draws, divided by its maximum
    gen = torch.Generator().manual_seed(3)
    clean = prediction_entropy(predict(x))
    change = torch.stack([
        (prediction_entropy(predict(x + 0.7 * torch.randn(x.shape, generator=gen))) - clean)
        .abs() for _ in range(4)]).mean(0)
    assert torch.allclose(rho, change / change.max(), atol=1e-6)


# --- sampling probability and the alpha fit ----------------------------------------------


def test_sampling_probability_follows_one_minus_rho_power_alpha():
    rho = torch.tensor([0.0, 0.25, 0.5, 1.0])
    assert torch.allclose(sampling_probability(rho, 2.0), torch.tensor([1.0, 0.9375, 0.75, 0.0]))
    assert torch.allclose(sampling_probability(rho, 1.0), 1 - rho)


def test_fit_alpha_recovers_exponent_from_exact_fractions():
    # one node per bin centre whose agreement is the exact fraction; many bins, because the
    # min-max normalisation stretches the fractions at the outermost centres to 0 and 1
    centres = (torch.arange(500, dtype=torch.float64) + 0.5) / 500
    assert abs(fit_alpha(centres, 1 - centres ** 2.5, bins=500) - 2.5) < 0.02


def test_fit_alpha_finds_the_least_squares_optimum():
    centres = (torch.arange(50, dtype=torch.float64) + 0.5) / 50
    fraction = 1 - centres ** 2.5
    weight = torch.arange(1, 51, dtype=torch.float64)  # bins of different sizes
    rho = centres.repeat_interleave(weight.long())
    agreement = fraction.repeat_interleave(weight.long())
    target = (fraction - fraction.min()) / (fraction.max() - fraction.min())
    alphas = torch.linspace(1.0, 4.0, 30_001, dtype=torch.float64)
    error = (((1 - centres ** alphas[:, None]) - target) ** 2 * weight).sum(1)
    best = alphas[error.argmin()].item()
    for initial in (0.1, 1.0, 15.0):
        assert fit_alpha(rho, agreement, initial=initial) == pytest.approx(best, abs=2e-4)


def test_fit_alpha_recovers_exponent_from_sampled_agreement():
    gen = torch.Generator().manual_seed(0)
    rho = torch.rand(20_000, generator=gen)
    agreement = torch.bernoulli(1 - rho ** 2.5, generator=gen).bool()
    assert abs(fit_alpha(rho, agreement, initial=1.0) - 2.5) < 0.3


def test_fit_alpha_returns_initial_when_fractions_are_equal_and_clamps():
    rho = torch.linspace(0, 1, 100)
    assert fit_alpha(rho, torch.ones(100, dtype=torch.bool), initial=1.7) == 1.7
    # agreement falls only in the very last bin: a step curve wants the largest exponent
    agreement = rho < 0.99
    assert fit_alpha(rho, agreement, max_alpha=5.0) == pytest.approx(5.0, abs=1e-3)


# --- reliable pairs ------------------------------------------------------------------------


def test_pairs_keep_every_edge_at_probability_one_and_none_at_zero():
    edge_index, graph = _random_graph(30, 120, undirected=True)
    nodes = torch.arange(30)
    student, teacher = sample_reliable_pairs(graph, torch.ones(30))
    assert student.numel() == graph.num_edges + 30
    assert torch.equal(student[-30:], nodes) and torch.equal(teacher[-30:], nodes)
    kept = set(zip(teacher[:-30].tolist(), student[:-30].tolist()))
    assert kept == set(map(tuple, edge_index.t().tolist()))
    student, teacher = sample_reliable_pairs(graph, torch.zeros(30))
    assert torch.equal(student, nodes) and torch.equal(teacher, nodes)


def test_pairs_are_real_directed_edges_filtered_by_source():
    edge_index, graph = _random_graph(50, 400, seed=1)  # directed
    probability = (torch.arange(50) % 2 == 0).float()  # only even sources are reliable
    student, teacher = sample_reliable_pairs(graph, probability)
    student, teacher = student[:-50], teacher[:-50]
    edges = set(map(tuple, edge_index.t().tolist()))
    assert all((j, i) in edges for i, j in zip(student.tolist(), teacher.tolist()))
    assert (teacher % 2 == 0).all()
    assert teacher.numel() == int((edge_index[0] % 2 == 0).sum())


def test_pairs_keep_the_expected_share_and_are_seeded():
    _, graph = _random_graph(500, 2500, seed=2, undirected=True)
    half = torch.full((500,), 0.5)

    def run(seed):
        return sample_reliable_pairs(graph, half, torch.Generator().manual_seed(seed))

    student, _ = run(0)
    share = (student.numel() - 500) / graph.num_edges
    assert graph.num_edges > 2000 and abs(share - 0.5) < 0.05
    assert all(torch.equal(a, b) for a, b in zip(run(5), run(5)))
    assert not torch.equal(run(5)[0], run(6)[0])


# --- bad inputs ----------------------------------------------------------------------------


def test_bad_inputs_raise_gkd_error():
    x, weight = _features_and_map()
    with pytest.raises(GkdError, match="draws"):
        knowledge_reliability(lambda f: f @ weight, x, draws=0)
    with pytest.raises(GkdError, match="noise_std"):
        knowledge_reliability(lambda f: f @ weight, x, noise_std=0.0)
    with pytest.raises(GkdError, match="reliability scale 'mean'"):
        knowledge_reliability(lambda f: f @ weight, x, scale="mean")
    x_nan = x.clone()
    x_nan[3, 2] = float("nan")
    with pytest.raises(GkdError, match="NaN"):
        knowledge_reliability(lambda f: f @ weight, x_nan)
    with pytest.raises(GkdError, match="alpha"):
        sampling_probability(torch.rand(4), 0.0)
    with pytest.raises(GkdError, match="alpha"):
        sampling_probability(torch.rand(4), -1.0)
    with pytest.raises(GkdError, match="rho and agreement"):
        fit_alpha(torch.rand(4), torch.ones(5))
    _, graph = _random_graph(10, 20)
    with pytest.raises(GkdError, match="probability"):
        sample_reliable_pairs(graph, torch.full((10,), 1.5))
    with pytest.raises(GkdError, match="one entry per node"):
        sample_reliable_pairs(graph, torch.ones(9))


def test_a_teacher_with_non_finite_or_missing_outputs_is_named():
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    weight = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))

    def nan_row(z):
        out = z @ weight
        out[2] = float("nan")
        return out

    with pytest.raises(GkdError, match="teacher's logits contain NaN or infinite"):
        knowledge_reliability(nan_row, x)
    with pytest.raises(GkdError, match=r"logits \(N, C\); for 6 nodes it returned \(3, 4\)"):
        knowledge_reliability(lambda z: (z @ weight)[:3], x)
    with pytest.raises(GkdError, match=r"logits \(N, C\); for 6 nodes it returned tuple"):
        knowledge_reliability(lambda z: (z @ weight, z), x)


@pytest.mark.parametrize("rho, agreement, bins, message", [
    ([2.0, 0.5, -1.0], [1.0, 0.0, 1.0], 50, r"rho must lie in \[0, 1\]"),
    ([0.1, 0.5, 0.9], [float("nan"), 0.0, 1.0], 50, "agreement contains"),
    ([0.1, 0.5, 0.9], [1.0, 0.0, 1.0], 2.5, "bins must be an integer of at least 1"),
])
def test_fit_alpha_refuses_values_it_would_fit_silently(rho, agreement, bins, message):
    with pytest.raises(GkdError, match=message):
        fit_alpha(torch.tensor(rho), torch.tensor(agreement), bins=bins)
