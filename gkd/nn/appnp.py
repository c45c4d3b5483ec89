"""APPNP: an MLP followed by personalised-PageRank propagation."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.typing import Adj
from torch_geometric.utils import to_edge_index

from gkd.nn.mlp import MLP
from gkd.ops import adjacency


class APPNP(torch.nn.Module):
    r"""The APPNP model ("Predict then Propagate", Klicpera et al., ICLR 2019): an MLP
    predicts :math:`\mathbf{H}` per node, then :math:`K` steps of personalised PageRank

    .. math::
        \mathbf{Z}^{(k+1)} = (1-\alpha)\,\mathrm{drop}(\hat{\mathbf{A}})\,\mathbf{Z}^{(k)} +
        \alpha\mathbf{H}, \qquad \mathbf{Z}^{(0)} = \mathbf{H},

    with :math:`\hat{\mathbf{A}}` the symmetrically normalised adjacency with self-loops.
    Edge dropout draws a fresh mask over the *original* weights at every step, as DGL's
    APPNPConv (used by GLNN) does. PyG's :class:`~torch_geometric.nn.conv.APPNP` layer
    instead drops from the already-dropped weights, so the surviving weights grow as
    :math:`(1-p)^{-k}` and the output diverges for GLNN's :math:`p = 0.5, K = 10`.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): MLP hidden width.
        num_layers (int): MLP depth.
        out_channels (int): number of classes.
        dropout (float, optional): MLP dropout. (default: ``0.0``)
        K (int, optional): propagation steps. (default: ``10``)
        alpha (float, optional): teleport probability. (default: ``0.1``)
        edge_dropout (float, optional): dropout on the normalised edge weights at each
            propagation step during training. (default: ``0.0``)
        norm (str, optional): MLP normalisation. (default: ``None``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 out_channels: int, dropout: float = 0.0, K: int = 10, alpha: float = 0.1,
                 edge_dropout: float = 0.0, norm: str | None = None) -> None:
        super().__init__()
        self.mlp = MLP(in_channels, hidden_channels, out_channels, num_layers, dropout, norm)
        self.K, self.alpha, self.edge_dropout = K, alpha, edge_dropout
        # the MLP's sizes, as other models keep theirs (reports and speed summaries read them)
        self.num_layers, self.hidden_channels = num_layers, hidden_channels

    def reset_parameters(self) -> None:
        r"""Resets the MLP's parameters (the propagation has none)."""
        self.mlp.reset_parameters()

    def normalized_adjacency(self, edge_index: Adj, num_nodes: int,
                             dtype: torch.dtype | None = None) -> Tensor:
        r""":math:`\hat{\mathbf{A}} = \mathbf{D}^{-1/2}(\mathbf{A}+\mathbf{I})\mathbf{D}^{-1/2}`
        as a sparse CSR ``adj_t``, from an ``edge_index`` or an ``adj_t``. Self-loops are
        added to the nodes that lack one (:func:`~torch_geometric.nn.conv.gcn_conv.gcn_norm`);
        the values stored in an ``adj_t`` are ignored.

        Args:
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)` (source, target), or
                a ``torch.sparse_csr`` ``adj_t`` whose row ``i`` lists the sources of the
                edges into node ``i``.
            num_nodes (int): the number of nodes :math:`N`.
            dtype (torch.dtype, optional): the weights' dtype. (default: ``None``, the
                default dtype)

        Returns:
            Tensor: a ``torch.sparse_csr`` matrix :math:`(N, N)` whose row ``i`` holds the
            normalised weights of the edges into node ``i``.
        """
        if edge_index.layout == torch.sparse_csr:
            edge_index = to_edge_index(edge_index)[0].flip(0)
        edge_index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True,
                                     dtype=dtype)
        return adjacency(edge_index, num_nodes, weight)

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        r"""Predicts with the MLP, then propagates :math:`K` steps (with edge dropout in
        training mode). The normalised adjacency is rebuilt at every call.

        Args:
            x (Tensor): node features :math:`(N, F_{in})`.
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)` or a sparse CSR
                ``adj_t`` (see :meth:`normalized_adjacency`).

        Returns:
            Tensor: logits :math:`(N, C)`.
        """
        h = self.mlp(x)
        adj = self.normalized_adjacency(edge_index, x.size(0), h.dtype)
        z = h
        for _ in range(self.K):
            step = adj
            if self.training and self.edge_dropout > 0:
                step = torch.sparse_csr_tensor(
                    adj.crow_indices(), adj.col_indices(),
                    F.dropout(adj.values(), self.edge_dropout), adj.size())
            z = (1 - self.alpha) * (step @ z) + self.alpha * h
        return z

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.mlp.in_channels}, {self.mlp.hidden_channels},"
                f" {self.mlp.out_channels}, num_layers={self.mlp.num_layers}, K={self.K})")
