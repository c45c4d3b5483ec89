import pytest
import torch
from torch_geometric.data import Data

from gkd.data.graphsets import GraphSetTask, stratified_split


def make_graphs(num_graphs: int = 60, seed: int = 0) -> list[Data]:
    """Rings of 5-9 nodes (3 one-hot node labels, 2 one-hot edge labels): mostly label-0
    nodes with one random label-1 node; graphs of class 1 also carry a label-2 pendant
    node on an edge of the second kind. Ring trees repeat, so frequent sets exist."""
    generator = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(num_graphs):
        label = i % 2
        n = int(torch.randint(5, 10, (1,), generator=generator))
        node_labels = torch.zeros(n + label, dtype=torch.long)
        node_labels[int(torch.randint(0, n, (1,), generator=generator))] = 1
        src, dst = torch.arange(n), (torch.arange(n) + 1) % n
        kinds = torch.zeros(n, dtype=torch.long)
        if label:
            node_labels[n] = 2
            src, dst = torch.cat([src, torch.tensor([n])]), torch.cat([dst, torch.tensor([0])])
            kinds = torch.cat([kinds, torch.tensor([1])])
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
