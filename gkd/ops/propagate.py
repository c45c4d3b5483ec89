r"""Sparse propagation: a (normalised) adjacency times node features."""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.errors import GkdError
from gkd.ops.backend import get_backend
from gkd.ops.csr import CSRGraph
from gkd.ops.reduce import segment

NORMALIZATIONS = ("sym", "mean")


def normalized_weights(graph: CSRGraph, normalization: str = "sym") -> Tensor:
    r"""Edge weights of a normalised adjacency, aligned with :obj:`graph.col`:
    ``"sym"`` gives :math:`1/\sqrt{d_i d_j}` (GCN, for a symmetric graph) and ``"mean"``
    gives :math:`1/d_i` (the mean over in-neighbours). Add self-loops to the graph first
    for GCN's :math:`\hat{A} = A + I`."""
    if normalization not in NORMALIZATIONS:
        raise GkdError(f"unknown normalization '{normalization}'; choose from "
                       f"{', '.join(NORMALIZATIONS)}")
    degree = graph.degree().to(torch.get_default_dtype()).clamp_(min=1)
    if normalization == "mean":
        return (1.0 / degree)[graph.targets()]
    inv_sqrt = degree.rsqrt()
    return inv_sqrt[graph.targets()] * inv_sqrt[graph.col]


def propagate(graph: CSRGraph, x: Tensor, edge_weight: Tensor | None = None) -> Tensor:
    r"""One propagation step :math:`\mathbf{X}'_i = \sum_{j \in \mathcal{N}(i)} w_{ij}
    \mathbf{x}_j` over the in-neighbours of every node.

    Plain torch multiplies a ``torch.sparse_csr`` matrix by :obj:`x`; torch-scatter
    reduces the gathered rows per node with ``segment_csr``.

    Args:
        graph (CSRGraph): the graph.
        x (Tensor): node features :math:`(N, F)`.
        edge_weight (Tensor, optional): :math:`w_{ij}` aligned with :obj:`graph.col`,
            e.g. from :func:`normalized_weights`. (default: ones)

    Shapes:
        - **output:** :math:`(N, F)`
    """
    if x.size(0) != graph.num_nodes:
        raise GkdError(f"x has {x.size(0)} rows but the graph has {graph.num_nodes} nodes")
    if get_backend() == "torch_scatter":
        messages = x[graph.col]
        if edge_weight is not None:
            messages = messages * edge_weight.unsqueeze(-1)
        return segment(messages, graph.rowptr, "sum")
    values = None if edge_weight is None else edge_weight.to(x.dtype)
    return graph.to_sparse(values) @ x
