import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import add_self_loops, to_dense_adj, to_undirected

from gkd.data.synthetic import contextual_sbm
from gkd.errors import GkdError
from gkd.ops import (
    CSRGraph,
    available_backends,
    normalized_weights,
    propagate,
    segment,
    use_backend,
)


def _graph():
    data = contextual_sbm(60, avg_degree=4, seed=3)
    edge_index, _ = add_self_loops(data.edge_index, num_nodes=60)
    return edge_index, CSRGraph.from_edge_index(edge_index, 60)


def test_symmetric_propagation_equals_dense_gcn_normalisation():
    edge_index, graph = _graph()
    x = torch.randn(60, 4)
    dense = to_dense_adj(edge_index, max_num_nodes=60)[0]
    deg = dense.sum(1)
    expected = (dense.t() / torch.outer(deg, deg).sqrt()) @ x
    with use_backend("torch"):
        out = propagate(graph, x, normalized_weights(graph, "sym"))
    torch.testing.assert_close(out, expected)
    # agrees with PyG's gcn_norm on the same (already self-looped) graph
    index, weight = gcn_norm(edge_index, num_nodes=60, add_self_loops=False)
    pyg = torch.zeros(60, 4).index_add_(0, index[1], weight.unsqueeze(-1) * x[index[0]])
    torch.testing.assert_close(out, pyg)


def test_mean_propagation_averages_in_neighbours():
    edge_index = to_undirected(torch.tensor([[0, 0, 1], [1, 2, 2]]))
    graph = CSRGraph.from_edge_index(edge_index, 4)
    x = torch.tensor([[1.0], [2.0], [4.0], [8.0]])
    with use_backend("torch"):
        out = propagate(graph, x, normalized_weights(graph, "mean"))
    torch.testing.assert_close(out, torch.tensor([[3.0], [2.5], [1.5], [0.0]]))


def test_wrong_feature_rows_are_named():
    _, graph = _graph()
    with pytest.raises(GkdError, match="x has 5 rows but the graph has 60 nodes"):
        propagate(graph, torch.ones(5, 2))
    with pytest.raises(GkdError, match=r"floating-point matrix \(N, F\); got torch.int64"):
        propagate(graph, torch.ones(60, 2, dtype=torch.long))
    with pytest.raises(GkdError, match=r"got torch.float32 of shape \(60, 2, 1\)"):
        propagate(graph, torch.ones(60, 2, 1))


@pytest.mark.parametrize("backend", available_backends())
def test_propagation_is_the_segment_sum_of_weighted_messages_exactly(backend):
    _, graph = _graph()
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(-9, 9, (60, 6), generator=gen).float()
    weight = torch.randint(1, 4, (graph.num_edges,), generator=gen).float()
    with use_backend(backend):
        out = propagate(graph, x, weight)
        reduced = segment(x[graph.col] * weight.unsqueeze(-1), graph.rowptr, "sum")
    assert torch.equal(out, reduced)


@pytest.mark.parametrize("backend", available_backends())
def test_default_weights_take_the_dtype_of_x(backend):
    _, graph = _graph()
    x = torch.randn(60, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with use_backend(backend):
        out = propagate(graph, x)
        expected = propagate(graph, x, torch.ones(graph.num_edges, dtype=torch.float64))
    assert out.dtype == torch.float64 and torch.equal(out, expected)


@pytest.mark.parametrize("backend", available_backends())
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_propagates_like_its_segment_sum(backend, dtype):
    _, graph = _graph()
    x = torch.randint(-9, 9, (60, 6), generator=torch.Generator().manual_seed(0)).to(dtype)
    with use_backend(backend):
        out = propagate(graph, x)
        assert out.dtype == dtype
        assert torch.equal(out, segment(x[graph.col], graph.rowptr, "sum"))


def test_edge_weights_of_the_wrong_length_are_named():
    _, graph = _graph()
    message = f"one value per edge \\({graph.num_edges}\\); got shape \\(2,\\)"
    with pytest.raises(GkdError, match=message):
        propagate(graph, torch.ones(60, 2), torch.ones(2))


def test_adjacency_names_out_of_range_edges_and_wrong_weights():
    from gkd.ops import adjacency

    with pytest.raises(GkdError, match=r"must be in \[0, 3\); edge_index holds ids from 0 to 5"):
        adjacency(torch.tensor([[0, 5], [1, 0]]), 3)
    with pytest.raises(GkdError, match=r"one value per edge \(2\); got shape \(3,\)"):
        adjacency(torch.tensor([[0, 2], [1, 0]]), 3, torch.ones(3))


def test_edge_order_aligns_weights_given_per_edge_of_edge_index():
    edge_index, _ = _graph()
    shuffle = torch.randperm(edge_index.size(1), generator=torch.Generator().manual_seed(0))
    edge_index = edge_index[:, shuffle]  # PyG's order: not grouped by target
    graph = CSRGraph.from_edge_index(edge_index, 60)
    x, weight = torch.randn(60, 4), torch.rand(edge_index.size(1))
    src, dst = edge_index
    expected = torch.zeros(60, 4).index_add_(0, dst, weight.unsqueeze(-1) * x[src])
    order = CSRGraph.edge_order(edge_index)
    assert torch.equal(graph.col, edge_index[0, order])
    torch.testing.assert_close(propagate(graph, x, weight[order]), expected)


def test_edge_weight_gradients_of_propagate_are_exact_with_unsorted_and_repeated_edges():
    # node 1's sources arrive as 2, 0, 0: unsorted, and one edge twice
    graph = CSRGraph.from_edge_index(torch.tensor([[2, 0, 0], [1, 1, 1]]), 3)
    x = torch.tensor([[1.0], [10.0], [100.0]], dtype=torch.float64)
    weight = torch.rand(3, dtype=torch.float64, requires_grad=True)
    propagate(graph, x, weight).sum().backward()
    assert weight.grad.tolist() == x[graph.col, 0].tolist()
    assert torch.autograd.gradcheck(lambda w: propagate(graph, x, w), (weight,))
