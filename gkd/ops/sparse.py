"""Sparse adjacency construction."""
from __future__ import annotations

from torch import Tensor
from torch_geometric.utils import to_torch_csr_tensor

from gkd.ops.csr import quiet_sparse_csr


def adjacency(edge_index: Tensor, num_nodes: int, edge_weight: Tensor | None = None) -> Tensor:
    r"""The transposed adjacency ``adj_t`` as a ``torch.sparse_csr`` tensor: row ``i``
    lists the sources of the edges into node ``i``.

    PyG convolutions accept it in place of ``edge_index`` and then aggregate with one
    sparse-dense product instead of materialising a message per edge, which is several
    times faster on CPU for wide features. :obj:`edge_index` must be coalesced (no
    duplicate edges, as every gkd loader returns it): duplicates would be merged.
    :obj:`edge_weight` gives the stored values. (default: ones)

    Shapes:
        - **input:** edge indices :math:`(2, |\mathcal{E}|)`
        - **output:** sparse CSR :math:`(|\mathcal{V}|, |\mathcal{V}|)`
    """
    with quiet_sparse_csr():
        return to_torch_csr_tensor(edge_index.flip(0), edge_weight,
                                   size=(num_nodes, num_nodes))
