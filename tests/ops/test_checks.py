import pytest
import torch

from gkd.errors import InputError
from gkd.ops import (
    CSRGraph,
    adjacency,
    pair_dot,
    sample_subgraph,
    scatter,
)
from gkd.ops.context import sample_context


def test_csr_graphs_compare_by_identity():
    graph = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), 3)
    assert graph == graph
    assert graph != CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), 3)


@pytest.mark.parametrize("call, message", [
    (lambda g: scatter(torch.ones(3), torch.tensor([0, 1, 3], dtype=torch.uint32), 2),
     r"node ids must be in \[0, 2\); index holds ids from 0 to 3"),
    (lambda g: scatter(torch.tensor(1.0), torch.tensor([0]), 1), "got a scalar"),
    (lambda g: sample_subgraph(g, torch.tensor([0, 1]), 2), "fanouts must be a list"),
    (lambda g: pair_dot(torch.randn(3), torch.tensor([[0], [1]])),
     r"x must be a floating-point matrix \(N, F\)"),
    (lambda g: adjacency(torch.tensor([[0], [1]]), 3.0), "num_nodes must be an integer"),
    (lambda g: g.to_sparse(torch.ones(5)), r"values must hold one entry per edge \(2\)"),
])
def test_bad_ops_inputs_are_named(call, message):
    graph = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), 3)
    with pytest.raises(InputError, match=message):
        call(graph)


@pytest.mark.parametrize("dtype", [torch.int16, torch.uint8, torch.uint32])
def test_narrow_and_unsigned_seeds_are_node_ids(dtype):
    graph = CSRGraph.from_edge_index(torch.tensor([[0, 1, 2], [1, 2, 0]]), 3)
    nodes, _ = sample_subgraph(graph, torch.tensor([0, 1], dtype=dtype), [1])
    expected, _ = sample_subgraph(graph, torch.tensor([0, 1]), [1])
    assert torch.equal(nodes, expected)


def test_contexts_of_a_graph_without_nodes_are_empty():
    graph = CSRGraph.from_edge_index(torch.empty(2, 0, dtype=torch.long), 0)
    contexts = sample_context(graph, torch.empty(0, dtype=torch.long), 2, 3, 4)
    assert contexts.shape == (0, 10)
