import torch
from torch_geometric.utils import to_undirected

from gkd.ops import CSRGraph
from gkd.ops.context import sample_context


def test_contexts_are_walk_nodes_then_random_nodes():
    path = to_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]))  # 0-1-2-3-4-5
    graph = CSRGraph.from_edge_index(path, 10)  # nodes 6..9 are isolated
    anchors = torch.tensor([0, 3, 7] * 50)
    context = sample_context(graph, anchors, num_walks=3, walk_length=2, num_random=4,
                             generator=torch.Generator().manual_seed(0))
    assert context.shape == (150, 3 * 2 + 4)
    nearby = context[:, :6]
    assert ((nearby - anchors.unsqueeze(1)).abs() <= 2).all()  # within two hops
    assert (nearby[anchors == 7] == 7).all()  # a walk from an isolated node stays
    assert context[:, 6:].max() < 10 and context[:, 6:].unique().numel() == 10
    again = sample_context(graph, anchors, 3, 2, 4, torch.Generator().manual_seed(0))
    assert torch.equal(context, again)
