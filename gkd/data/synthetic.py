"""Seeded synthetic graphs for tests and scale experiments."""
from __future__ import annotations

import math

import torch
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from gkd.errors import GkdError


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

    Returns:
        Data: features ``x`` :math:`(N, F)`, classes ``y`` :math:`(N)` and an
        undirected ``edge_index`` without self-loops or repeated edges.
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


# Sizes and shapes of real benchmarks: nodes, average degree (directed edges per node),
# features, classes. Class means are scaled to 1.5 / sqrt(features) so that features alone
# classify only part of the nodes and the graph helps.
SYNTHETIC_PRESETS: dict[str, dict[str, float]] = {
    "cora": {"nodes": 2_708, "degree": 3.9, "features": 1_433, "classes": 7},
    "a-computer": {"nodes": 13_752, "degree": 35.8, "features": 767, "classes": 10},
    "arxiv": {"nodes": 169_343, "degree": 13.7, "features": 128, "classes": 40},
    "products": {"nodes": 2_449_029, "degree": 25.3, "features": 100, "classes": 47},
}
_SYNTHETIC_KEYS = ("nodes", "degree", "features", "classes", "homophily", "seed")
SYNTHETIC_PREFIX = "synthetic:"


def synthetic_params(spec: str) -> dict[str, float]:
    r"""The parameters named by :obj:`spec` (see :func:`synthetic_dataset`), checked.

    Args:
        spec (str): a preset name or ``key=value`` pairs, with or without the
            ``synthetic:`` prefix.

    Returns:
        dict[str, float]: ``nodes``, ``degree``, ``features``, ``classes`` and, if given,
        ``homophily`` and ``seed``.

    Raises:
        GkdError: an unknown preset or key, a value that is not a finite number, a
            missing required key, a count or seed that is not a whole number, a value of
            2**63 or more, fewer than 2
            nodes or 2 classes, no feature, a non-positive degree or one above the nodes
            less one, a homophily outside
            [0, 1] or a negative seed; the message names what is wrong.
    """
    name = spec[len(SYNTHETIC_PREFIX):] if spec.startswith(SYNTHETIC_PREFIX) else spec
    if name in SYNTHETIC_PRESETS:
        params = dict(SYNTHETIC_PRESETS[name])
    else:
        params = {}
        for item in filter(None, name.split(",")):
            key, sep, value = item.partition("=")
            if not sep or key not in _SYNTHETIC_KEYS:
                raise GkdError(f"unknown synthetic dataset '{spec}'; use a preset "
                               f"({', '.join(SYNTHETIC_PRESETS)}) or key=value pairs over "
                               f"{', '.join(_SYNTHETIC_KEYS)}")
            try:
                params[key] = float(value)
            except ValueError:
                raise GkdError(f"synthetic dataset '{spec}': {key} must be a number, "
                               f"got '{value}'") from None
        missing = [k for k in _SYNTHETIC_KEYS[:4] if k not in params]
        if missing:
            raise GkdError(f"synthetic dataset '{spec}' lacks {', '.join(missing)}")
    for key, number in params.items():
        if not math.isfinite(number):
            raise GkdError(f"synthetic dataset '{spec}': {key} must be finite, got {number}")
        if key in ("nodes", "features", "classes", "seed") and number != int(number):
            raise GkdError(f"synthetic dataset '{spec}': {key} must be a whole number, "
                           f"got {number}")
        if abs(number) >= 2**63:  # torch's sizes and seeds are 64-bit integers
            raise GkdError(f"synthetic dataset '{spec}': {key} must be below 2**63, got "
                           f"{number:g}")
    if not 0.0 <= params.get("homophily", 0.0) <= 1.0 or params.get("seed", 0.0) < 0:
        raise GkdError(f"synthetic dataset '{spec}' needs a homophily in [0, 1] and a "
                       f"non-negative seed")
    nodes, features, classes = (int(params[k]) for k in ("nodes", "features", "classes"))
    if nodes < 2 or features < 1 or classes < 2 or params["degree"] <= 0:
        raise GkdError(f"synthetic dataset '{spec}' needs at least 2 nodes and 2 classes, "
                       f"1 feature and a positive degree")
    if params["degree"] > nodes - 1:  # also keeps the edge count within 64 bits
        raise GkdError(f"synthetic dataset '{spec}': an average degree of "
                       f"{params['degree']:g} needs more than {nodes} nodes")
    return params


def synthetic_dataset(spec: str) -> Data:
    r"""The graph named by :obj:`spec`: a preset of :data:`SYNTHETIC_PRESETS`
    (``"products"``), or comma-separated ``key=value`` pairs over ``nodes``, ``degree``,
    ``features``, ``classes``, ``homophily`` (default ``0.8``) and ``seed`` (default ``0``),
    e.g. ``"nodes=100000,degree=20,features=64,classes=10"``; the ``synthetic:`` prefix is
    optional. Built by :func:`contextual_sbm` with class means scaled by
    :math:`1.5 / \sqrt{F}`.

    Args:
        spec (str): the preset or the parameters.

    Returns:
        Data: the graph (see :func:`contextual_sbm`), without masks.

    Raises:
        GkdError: :obj:`spec` is malformed (see :func:`synthetic_params`).
    """
    params = synthetic_params(spec)
    nodes, features, classes = (int(params[k]) for k in ("nodes", "features", "classes"))
    return contextual_sbm(nodes, classes, params["degree"], features,
                          homophily=params.get("homophily", 0.8),
                          signal=1.5 / features ** 0.5, seed=int(params.get("seed", 0)))
