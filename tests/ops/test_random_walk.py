import torch
from torch_geometric.utils import to_undirected

from gkd.ops import CSRGraph, random_walk


def test_walks_follow_edges_and_stay_at_isolated_nodes():
    edge_index = to_undirected(torch.tensor([[0, 1, 2, 0], [1, 2, 3, 3]]), num_nodes=5)
    graph = CSRGraph.from_edge_index(edge_index, 5)
    start = torch.tensor([0, 1, 2, 3, 4] * 20)
    walks = random_walk(graph, start, 6, torch.Generator().manual_seed(0))
    assert walks.shape == (100, 7) and torch.equal(walks[:, 0], start)
    edges = set(map(tuple, edge_index.t().tolist()))
    steps = torch.stack([walks[:, :-1], walks[:, 1:]], -1).view(-1, 2)
    moving = steps[steps[:, 0] != 4]
    assert all((b, a) in edges for a, b in moving.tolist())
    assert (walks[start == 4] == 4).all()


def test_steps_are_uniform_over_neighbours():
    star = to_undirected(torch.tensor([[0, 0, 0, 0], [1, 2, 3, 4]]))
    graph = CSRGraph.from_edge_index(star, 5)
    walks = random_walk(graph, torch.zeros(8000, dtype=torch.long), 1,
                        torch.Generator().manual_seed(1))
    share = torch.bincount(walks[:, 1], minlength=5)[1:] / 8000
    assert torch.allclose(share, torch.full((4,), 0.25), atol=0.02)


def test_walks_are_seeded():
    star = to_undirected(torch.tensor([[0, 0, 0], [1, 2, 3]]))
    graph = CSRGraph.from_edge_index(star, 4)
    start = torch.arange(4).repeat(5)
    first = random_walk(graph, start, 5, torch.Generator().manual_seed(7))
    again = random_walk(graph, start, 5, torch.Generator().manual_seed(7))
    assert torch.equal(first, again)


def test_walks_on_a_graph_without_edges_stay_at_their_start():
    graph = CSRGraph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), 3)
    start = torch.tensor([2, 0, 1, 2])
    walks = random_walk(graph, start, 4, torch.Generator().manual_seed(0))
    assert torch.equal(walks, start.unsqueeze(1).expand(4, 5))


def test_walks_are_long_whatever_the_graph_and_start_dtype():
    start = torch.tensor([0, 1], dtype=torch.int32)
    for edge_index in (torch.tensor([[0], [1]]), torch.zeros(2, 0, dtype=torch.long)):
        assert random_walk(CSRGraph.from_edge_index(edge_index, 2), start, 2).dtype == torch.long


def test_bad_starts_and_lengths_are_named():
    import pytest

    from gkd.errors import GkdError
    from gkd.ops.context import sample_context

    graph = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 0]]), 3)
    empty = CSRGraph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), 3)
    for g in (graph, empty):
        with pytest.raises(GkdError, match=r"in \[0, 3\); start holds ids from -1 to -1"):
            random_walk(g, torch.tensor([-1]), 2)
        with pytest.raises(GkdError, match=r"start holds ids from 99 to 99"):
            random_walk(g, torch.tensor([99]), 2)
        with pytest.raises(GkdError, match="walk_length must be an integer of at least 0; got -1"):
            random_walk(g, torch.tensor([0]), -1)
    with pytest.raises(GkdError, match="num_random must be an integer of at least 0; got -2"):
        sample_context(graph, torch.tensor([0]), 2, 2, -2)
    with pytest.raises(GkdError, match="anchors holds ids from 0 to 5"):
        sample_context(graph, torch.tensor([0, 5]), 2, 2, 2)
