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


def test_from_edge_index_takes_an_empty_graph():
    graph = CSRGraph.from_edge_index(torch.zeros(2, 0, dtype=torch.long), 3)
    assert graph.rowptr.tolist() == [0, 0, 0, 0] and graph.num_edges == 0
