import pytest
import torch
from torch_geometric.data import Data

from gkd.data.graphsets import GraphSetTask, stratified_split


def make_graphs(num_graphs: int = 60, seed: int = 0) -> list[Data]:
    """Small random graphs with 3 one-hot node labels and 2 one-hot edge labels; class 1
    when a label-2 node exists, so frequent trees differ between the classes."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(num_graphs):
        n = int(torch.randint(5, 10, (1,), generator=generator))
        label = i % 2
        node_labels = torch.randint(0, 2 + label, (n,), generator=generator)
        ring = torch.arange(n)
        chord = torch.randint(0, n, (2, 2), generator=generator)
        src = torch.cat([ring, chord[0]])
        dst = torch.cat([(ring + 1) % n, chord[1]])
        keep = src != dst
        src, dst = src[keep], dst[keep]
        kinds = torch.randint(0, 2, (src.numel(),), generator=generator)
        graphs.append(Data(
            x=torch.nn.functional.one_hot(node_labels, 3).float(),
            edge_index=torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1),
            edge_attr=torch.nn.functional.one_hot(torch.cat([kinds, kinds]), 2).float(),
            y=torch.tensor([label])))
    return graphs


@pytest.fixture
def tiny_task() -> GraphSetTask:
    graphs = make_graphs()
    y = torch.cat([g.y for g in graphs])
    train, val, test = stratified_split(y, 0.6, 0.2, seed=0)
    return GraphSetTask(graphs, train, val, test, info={"dataset": "tiny"})
