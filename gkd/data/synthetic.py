"""Seeded synthetic graphs for tests and scale experiments."""
from __future__ import annotations

import torch
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected


def contextual_sbm(num_nodes: int, num_classes: int = 3, avg_degree: float = 8.0,
                   num_features: int = 16, homophily: float = 0.8, signal: float = 1.0,
                   seed: int = 0) -> Data:
    r"""A contextual stochastic block model ("Contextual Stochastic Block Models",
    Deshpande et al., NeurIPS 2018): classes drawn uniformly; features are a per-class
    Gaussian mean scaled by :obj:`signal` plus unit Gaussian noise; each of the
    ``num_nodes * avg_degree / 2`` undirected edges joins a random node to a node of its
    own class with probability :obj:`homophily`, else to any node. Built with vectorised
    sampling only.

    Args:
        num_nodes (int): number of nodes.
        num_classes (int, optional): number of classes. (default: ``3``)
        avg_degree (float, optional): expected degree. (default: ``8.0``)
        num_features (int, optional): feature size. (default: ``16``)
        homophily (float, optional): share of intra-class edges. (default: ``0.8``)
        signal (float, optional): scale of the class means against the unit noise; small
            values make features alone uninformative. (default: ``1.0``)
        seed (int, optional): the generator seed. (default: ``0``)
    """
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(num_classes, (num_nodes,), generator=gen)
    means = torch.randn(num_classes, num_features, generator=gen) * signal
    x = means[y] + torch.randn(num_nodes, num_features, generator=gen)

    num_edges = int(num_nodes * avg_degree / 2)
    src = torch.randint(num_nodes, (num_edges,), generator=gen)
    by_class = torch.argsort(y, stable=True)
    counts = torch.bincount(y, minlength=num_classes)
    offsets = torch.cumsum(counts, 0) - counts
    c = y[src]
    same = by_class[offsets[c] + (torch.rand(num_edges, generator=gen) * counts[c]).long()]
    anyone = torch.randint(num_nodes, (num_edges,), generator=gen)
    dst = torch.where(torch.rand(num_edges, generator=gen) < homophily, same, anyone)
    edge_index, _ = remove_self_loops(torch.stack([src, dst]))
    return Data(x=x, y=y, edge_index=to_undirected(edge_index, num_nodes=num_nodes))
