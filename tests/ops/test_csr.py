import pytest
import torch

from gkd.errors import GkdError
from gkd.ops import CSRGraph


@pytest.mark.parametrize("edge_index, message", [
    (torch.tensor([[0, 2], [1, 0]]), r"in \[0, 2\); edge_index holds ids from 0 to 2"),
    (torch.tensor([[0, 1], [-1, 0]]), r"in \[0, 2\); edge_index holds ids from -1 to 1"),
    (torch.tensor([[0.0, 1.0], [1.0, 0.0]]), r"integer tensor of shape \[2, E\]; got "
                                             r"torch.float32 of shape \(2, 2\)"),
    (torch.tensor([[True], [False]]), r"integer tensor of shape \[2, E\]; got torch.bool"),
    (torch.tensor([0, 1]), r"integer tensor of shape \[2, E\]; got torch.int64 of shape \(2,\)"),
    (torch.zeros(3, 2, dtype=torch.long), r"of shape \[2, E\]; got torch.int64 of shape \(3, 2\)"),
])
def test_from_edge_index_rejects_what_is_not_an_edge_list_of_the_nodes(edge_index, message):
    with pytest.raises(GkdError, match=message):
        CSRGraph.from_edge_index(edge_index, 2)


@pytest.mark.parametrize("col, message", [
    (torch.tensor([0, 100_000_000]), r"in \[0, 2\); col holds ids from 0 to 100000000"),
    (torch.tensor([0, -1]), r"in \[0, 2\); col holds ids from -1 to 0"),
    (torch.tensor([0.0, 1.0]), r"col must be an integer vector of node ids; got torch.float32"),
])
def test_a_graph_built_from_its_parts_checks_its_node_ids(col, message):
    # unchecked, propagate read out of bounds (a crash or uninitialised values)
    with pytest.raises(GkdError, match=message):
        CSRGraph(torch.tensor([0, 1, 2]), col)


def test_from_edge_index_takes_an_empty_graph():
    graph = CSRGraph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), 3)
    assert graph.rowptr.tolist() == [0, 0, 0, 0] and graph.num_edges == 0


def test_int32_graphs_are_stored_in_64_bits_so_pair_keys_do_not_overflow():
    # 70,000 nodes: keys col * N + target reach 4.9e9, beyond 32 bits
    from gkd.ops import sample_non_edges

    n = 70_000
    sources = torch.arange(1, 60_001)
    star = torch.stack([sources, torch.zeros_like(sources)]).int()  # edges u -> 0
    graph = CSRGraph.from_edge_index(star, n)
    assert graph.col.dtype == torch.long and graph.rowptr.dtype == torch.long
    pairs = sample_non_edges(graph, 200_000, torch.Generator().manual_seed(0))
    assert not ((pairs[1] == 0) & (pairs[0] >= 1) & (pairs[0] <= 60_000)).any()
