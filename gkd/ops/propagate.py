r"""Sparse propagation: a (normalised) adjacency times node features."""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.errors import GkdError
from gkd.ops.csr import CSRGraph, half_on_cpu
from gkd.ops.reduce import segment

NORMALIZATIONS = ("sym", "mean")


def normalized_weights(graph: CSRGraph, normalization: str = "sym") -> Tensor:
    r"""Edge weights of a normalised adjacency, aligned with :obj:`graph.col`:
    ``"sym"`` gives :math:`1/\sqrt{d_i d_j}` (GCN, for a symmetric graph) and ``"mean"``
    gives :math:`1/d_i` (the mean over in-neighbours). Add self-loops to the graph first
    for GCN's :math:`\hat{A} = A + I`.

    Degrees :math:`d` are in-degrees, at least 1 (isolated nodes count as degree 1).

    Args:
        graph (CSRGraph): the graph.
        normalization (str, optional): ``"sym"`` or ``"mean"``. (default: ``"sym"``)

    Returns:
        Tensor: weights :math:`(|\mathcal{E}|)` of the default dtype.

    Raises:
        GkdError: an unknown :obj:`normalization`.
    """
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

    Both backends multiply a ``torch.sparse_csr`` matrix by :obj:`x`: the sparse-dense
    kernel reads each neighbour row in place, where a gather followed by a segment
    reduction (the torch-scatter way) first writes one message per edge and measured 20
    times slower on CPU (``benchmarks/ops.py``). The result equals
    ``segment(x[col] * w, rowptr)`` on either backend, which is how it is computed when
    :obj:`edge_weight` requires grad (so that its gradient is exact); half precision on
    the CPU computes in float32.

    Args:
        graph (CSRGraph): the graph.
        x (Tensor): node features :math:`(N, F)`.
        edge_weight (Tensor, optional): :math:`w_{ij}` aligned with :obj:`graph.col`,
            e.g. from :func:`normalized_weights`, cast to the dtype of :obj:`x`; weights
            given per edge of an ``edge_index`` align with
            ``edge_weight[CSRGraph.edge_order(edge_index)]``. (default: ``None``, ones)

    Returns:
        Tensor: the propagated features :math:`(N, F)`.

    Shapes:
        - **output:** :math:`(N, F)`

    Raises:
        GkdError: :obj:`x` is not a floating-point matrix of one row per node of
            :obj:`graph`, or :obj:`edge_weight` not one value per edge.
    """
    if x.dim() != 2 or not x.is_floating_point():
        raise GkdError(f"x must be a floating-point matrix (N, F); got {x.dtype} of shape "
                       f"{tuple(x.shape)}")
    if x.size(0) != graph.num_nodes:
        raise GkdError(f"x has {x.size(0)} rows but the graph has {graph.num_nodes} nodes")
    if edge_weight is not None and edge_weight.shape != (graph.num_edges,):
        raise GkdError(f"edge_weight must hold one value per edge ({graph.num_edges}); got "
                       f"shape {tuple(edge_weight.shape)}")
    if half_on_cpu(x):
        return propagate(graph, x.float(), edge_weight).to(x.dtype)
    if edge_weight is not None and edge_weight.requires_grad:
        # torch's sparse product differentiates its values as if each row's columns were
        # sorted and distinct, which a CSRGraph does not promise: gather instead
        messages = x[graph.col] * edge_weight.to(x.dtype).unsqueeze(-1)
        return segment(messages, graph.rowptr)
    values = x.new_ones(graph.num_edges) if edge_weight is None else edge_weight.to(x.dtype)
    return graph.to_sparse(values) @ x
