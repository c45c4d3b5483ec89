"""Graph-level GNNs (GIN, GCN, GAT) with sum or mean pooling."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import (
    GATConv,
    GCNConv,
    GINConv,
    GINEConv,
    global_add_pool,
    global_mean_pool,
)

from gkd.errors import GkdError
from gkd.ops.checks import check_count

GRAPH_CONVS = ("gin", "gcn", "gat")
POOLS = {"sum": global_add_pool, "mean": global_mean_pool}


def _edge_encoder(channels: int, edge_dim: int | None) -> torch.nn.Module:
    if edge_dim is None:  # OGB molecules' bond types
        from ogb.graphproppred.mol_encoder import BondEncoder

        return BondEncoder(channels)
    return torch.nn.Linear(edge_dim, channels)


class GraphGNN(torch.nn.Module):
    r"""A message-passing GNN with a graph readout, for graph classification.

    Node (and edge) features are embedded, :obj:`num_layers` convolutions with ReLU and
    dropout follow, then the node embeddings are pooled per graph, and a dropout and a
    linear layer give the class logits. Given a ``root_mask``, only the marked nodes are
    pooled: that is how a model trains on distilled computation trees and still applies
    unchanged to real graphs.

    Args:
        in_channels (int): node feature size (ignored with :obj:`atom_features`).
        hidden_channels (int): hidden size.
        out_channels (int): number of classes.
        num_layers (int): number of convolutions (the computation-tree depth).
        conv (str, optional): ``"gin"`` (GINE with edge features), ``"gcn"`` (edge
            features unused) or ``"gat"``. (default: ``"gin"``)
        pool (str, optional): ``"sum"`` or ``"mean"``. (default: ``"sum"``)
        dropout (float, optional): dropout after every layer and before the classifier.
            (default: ``0.0``)
        edge_dim (int, optional): edge feature size; ``None`` for graphs without edge
            features. (default: ``None``)
        atom_features (bool, optional): the features are OGB's integer atom and bond
            features, embedded with OGB's ``AtomEncoder`` and ``BondEncoder``.
            (default: ``False``)
        heads (int, optional): attention heads of GAT (their outputs are concatenated to
            :obj:`hidden_channels`). (default: ``4``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int, conv: str = "gin", pool: str = "sum", dropout: float = 0.0,
                 edge_dim: int | None = None, atom_features: bool = False,
                 heads: int = 4) -> None:
        super().__init__()
        if conv not in GRAPH_CONVS:
            raise GkdError(f"unknown graph model '{conv}'; choose from {', '.join(GRAPH_CONVS)}")
        if pool not in tuple(POOLS):  # a tuple: an unhashable value is simply unknown
            raise GkdError(f"unknown pooling '{pool}'; choose from {', '.join(POOLS)}")
        check_count(num_layers, "num_layers", minimum=1)
        check_count(heads, "heads", minimum=1)
        if conv == "gat" and hidden_channels % heads:
            raise GkdError(f"GAT: hidden_channels {hidden_channels} is not divisible by "
                           f"heads {heads}")
        self.conv, self.pool, self.dropout = conv, pool, dropout
        uses_edges = (edge_dim is not None or atom_features) and conv != "gcn"
        if atom_features:
            from ogb.graphproppred.mol_encoder import AtomEncoder

            self.node_encoder: torch.nn.Module = AtomEncoder(hidden_channels)
        else:
            self.node_encoder = torch.nn.Linear(in_channels, hidden_channels)
        self.edge_encoders = torch.nn.ModuleList(
            [_edge_encoder(hidden_channels, None if atom_features else edge_dim)
             for _ in range(num_layers)]
            if uses_edges else [])
        self.convs = torch.nn.ModuleList(
            [self._make_conv(conv, hidden_channels, uses_edges, heads) for _ in range(num_layers)])
        self.classifier = torch.nn.Linear(hidden_channels, out_channels)

    @staticmethod
    def _make_conv(conv: str, channels: int, uses_edges: bool, heads: int) -> torch.nn.Module:
        if conv == "gin":
            mlp = torch.nn.Sequential(torch.nn.Linear(channels, channels), torch.nn.ReLU(),
                                      torch.nn.Linear(channels, channels))
            return GINEConv(mlp, train_eps=True) if uses_edges else GINConv(mlp, train_eps=True)
        if conv == "gcn":
            return GCNConv(channels, channels)
        return GATConv(channels, channels // heads, heads=heads,
                       edge_dim=channels if uses_edges else None)

    def reset_parameters(self) -> None:
        r"""Resets the parameters of every submodule that can reset them: the encoders,
        the convolutions and the classifier."""
        for module in self.modules():
            reset = getattr(module, "reset_parameters", None)
            if module is not self and callable(reset):
                reset()

    def forward(self, x: Tensor, edge_index: Tensor, batch: Tensor,
                edge_attr: Tensor | None = None, root_mask: Tensor | None = None,
                num_graphs: int | None = None) -> Tensor:
        r"""Class logits :math:`(B, C)` for the :math:`B` graphs of a batch.

        Args:
            x (Tensor): node features :math:`(N, F)` (OGB's integer atom features with
                :obj:`atom_features`).
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)`, messages flow from
                ``edge_index[0]`` to ``edge_index[1]``.
            batch (Tensor): the graph of every node :math:`(N)`.
            edge_attr (Tensor, optional): edge features, one row per edge; required by a
                model built for edge features, ignored by any other. (default: ``None``)
            root_mask (Tensor, optional): pool only these nodes (bool :math:`(N)`).
                (default: ``None``, all nodes)
            num_graphs (int, optional): :math:`B`. (default: ``None``,
                ``batch.max() + 1``, over all nodes)

        Returns:
            Tensor: class logits :math:`(B, C)`.

        Raises:
            GkdError: :obj:`root_mask` is not a boolean vector of one entry per node, or
                a model built for edge features gets no :obj:`edge_attr`.
        """
        if self.edge_encoders and edge_attr is None:
            raise GkdError("this model was built with edge features (edge_dim or "
                           "atom_features): pass edge_attr")
        if root_mask is not None and (root_mask.dtype != torch.bool
                                      or root_mask.shape != batch.shape):
            raise GkdError(f"root_mask must be a boolean vector of the {batch.numel()} nodes; "
                           f"got {root_mask.dtype} of shape {tuple(root_mask.shape)}")
        h = self.node_encoder(x)
        if self.edge_encoders and edge_attr is not None and edge_attr.dim() != 2:
            # one column per feature (a view of the size of no edges would be ambiguous)
            edge_attr = edge_attr.unsqueeze(-1) if edge_attr.dim() == 1 else edge_attr.flatten(1)
        for i, conv in enumerate(self.convs):
            if self.edge_encoders:
                h = conv(h, edge_index, self.edge_encoders[i](edge_attr))
            else:
                h = conv(h, edge_index)
            h = F.dropout(F.relu(h), self.dropout, self.training)
        if num_graphs is None:  # from every node: a graph may have no root in the mask
            num_graphs = int(batch.max()) + 1 if batch.numel() else 0
        if root_mask is not None:
            h, batch = h[root_mask], batch[root_mask]
        h = POOLS[self.pool](h, batch, size=num_graphs)
        return self.classifier(F.dropout(h, self.dropout, self.training))
