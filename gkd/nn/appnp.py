"""APPNP: an MLP followed by personalised-PageRank propagation."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.conv import APPNP as APPNPProp
from torch_geometric.typing import Adj

from gkd.nn.mlp import MLP


class APPNP(torch.nn.Module):
    r"""The APPNP model ("Predict then Propagate", Klicpera et al., ICLR 2019): an MLP
    predicts per node, then :math:`K` steps of personalised PageRank propagation
    :math:`\mathbf{Z}^{(k+1)} = (1-\alpha)\hat{\mathbf{A}}\mathbf{Z}^{(k)} +
    \alpha\mathbf{H}` smooth the predictions. PyG has the propagation layer but no model.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): MLP hidden width.
        num_layers (int): MLP depth.
        out_channels (int): number of classes.
        dropout (float, optional): MLP dropout. (default: ``0.0``)
        K (int, optional): propagation steps. (default: ``10``)
        alpha (float, optional): teleport probability. (default: ``0.1``)
        edge_dropout (float, optional): dropout on the normalised edge weights during
            propagation. (default: ``0.0``)
        norm (str, optional): MLP normalisation. (default: ``None``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 out_channels: int, dropout: float = 0.0, K: int = 10, alpha: float = 0.1,
                 edge_dropout: float = 0.0, norm: str | None = None) -> None:
        super().__init__()
        self.mlp = MLP(in_channels, hidden_channels, out_channels, num_layers, dropout, norm)
        self.prop = APPNPProp(K, alpha, dropout=edge_dropout)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        return self.prop(self.mlp(x), edge_index)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.mlp.in_channels}, {self.mlp.hidden_channels},"
                f" {self.mlp.out_channels}, num_layers={self.mlp.num_layers}, K={self.prop.K})")
