"""Sparse adjacency construction and sampled pair products."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.utils import to_torch_csr_tensor

from gkd.errors import GkdError, InputError
from gkd.ops.checks import check_count, check_edge_index
from gkd.ops.csr import CSRGraph, half_on_cpu, quiet_sparse_csr


def adjacency(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None) -> Tensor:
    r"""The transposed adjacency ``adj_t`` as a ``torch.sparse_csr`` tensor: row ``i``
    lists the sources of the edges into node ``i``.

    PyG convolutions accept it in place of ``edge_index`` and then aggregate with one
    sparse-dense product instead of materialising a message per edge, which is several
    times faster on CPU for wide features. :obj:`edge_index` must be coalesced (no
    duplicate edges, as every gkd loader returns it): duplicates would be merged.

    Args:
        edge_index (Tensor): edges (source, target).
        num_nodes (int): the number of nodes.
        edge_weight (Tensor, optional): the stored values, aligned with
            :obj:`edge_index`. (default: ``None``, ones)

    Returns:
        Tensor: the ``torch.sparse_csr`` matrix ``adj_t``.

    Shapes:
        - **input:** edge indices :math:`(2, |\mathcal{E}|)`
        - **output:** sparse CSR :math:`(|\mathcal{V}|, |\mathcal{V}|)`

    Raises:
        GkdError: :obj:`edge_index` is not an integer ``[2, E]`` tensor of node ids in
            ``[0, num_nodes)`` (checked on the CPU; on a GPU it would cost a device sync
            per call), or :obj:`edge_weight` does not hold one value per edge.
    """
    check_count(num_nodes, "num_nodes")
    if edge_index.device.type == "cpu":
        check_edge_index(edge_index, num_nodes)
    if edge_weight is not None and edge_weight.shape != edge_index.shape[1:]:
        raise GkdError(f"edge_weight must hold one value per edge ({edge_index.size(1)}); "
                       f"got shape {tuple(edge_weight.shape)}")
    with quiet_sparse_csr():
        return to_torch_csr_tensor(edge_index.flip(0), edge_weight,
                                   size=(num_nodes, num_nodes))


def pair_dot(x: Tensor, pairs: Tensor) -> Tensor:
    r"""Inner products :math:`\langle \mathbf{x}_u, \mathbf{x}_v \rangle` of the node
    pairs :math:`(u, v)` in :obj:`pairs`, differentiable in :obj:`x`.

    Computed as one sampled dense-dense product (``torch.sparse.sampled_addmm``) over
    the pairs sorted by :math:`u`: several times faster on CPU than gathering both
    endpoints' rows, and its backward is two sparse-dense products with a fixed
    summation order. Repeated pairs are allowed; half precision on the CPU computes in
    float32.

    Args:
        x (Tensor): node features.
        pairs (Tensor): node pairs :math:`(u, v)`, one per column.

    Returns:
        Tensor: one inner product per pair, in the order of :obj:`pairs`.

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F)`, node pairs :math:`(2, P)`
        - **output:** scores :math:`(P)`, in the order of :obj:`pairs`

    Raises:
        GkdError: :obj:`x` is not a floating-point matrix, :obj:`pairs` is not an integer
            ``[2, P]`` tensor, or holds a node id outside ``[0, |V|)``.
    """
    if x.dim() != 2 or not x.is_floating_point():
        raise InputError(f"x must be a floating-point matrix (N, F); got {x.dtype} of shape "
                         f"{tuple(x.shape)}")
    n = x.size(0)
    check_edge_index(pairs, n, "pairs")
    if half_on_cpu(x):
        return pair_dot(x.float(), pairs).to(x.dtype)
    pairs = pairs.long()
    order = torch.argsort(pairs[0] * n + pairs[1])
    rows, cols = pairs[0, order], pairs[1, order]
    # Rows already sorted: CSRGraph.from_edge_index would only sort them again.
    crow = torch.cat([rows.new_zeros(1), torch.bincount(rows, minlength=n).cumsum(0)])
    mask = CSRGraph._built(crow, cols).to_sparse(x.new_ones(rows.numel()))
    with quiet_sparse_csr():
        sorted_scores = torch.sparse.sampled_addmm(mask, x, x.t(), beta=0.0).values()
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=order.device)
    return sorted_scores.index_select(0, inverse)
