"""GAT with attention dropout separate from feature dropout."""
from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.models import GAT as PyGGAT

from gkd.errors import GkdError


class GAT(PyGGAT):
    r"""PyG's :class:`~torch_geometric.nn.models.GAT` ("Graph Attention Networks",
    Veličković et al., ICLR 2018) with a dropout on the attention coefficients that is
    set apart from the dropout on features.

    PyG passes its feature dropout to every :class:`~torch_geometric.nn.conv.GATConv`
    as the attention dropout; GLNN and KRD use separate values (e.g. 0.6 on features,
    0.3 on attention on Cora). Like GAT's original and GLNN's, the output layer can have
    its own number of heads and the input features a dropout of their own (PyG's model
    gives the output layer the hidden layers' heads, averaged, and leaves the input as
    it is).

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden width, summed over heads.
        num_layers (int): number of message-passing layers.
        out_channels (int, optional): output size. (default: ``None``)
        dropout (float, optional): feature dropout. (default: ``0.0``)
        attn_dropout (float, optional): attention-coefficient dropout; ``None`` keeps
            PyG's behaviour (the feature dropout). (default: ``None``)
        out_heads (int, optional): heads of the output layer (averaged); ``None`` keeps
            PyG's behaviour (``heads``). (default: ``None``)
        input_dropout (float, optional): dropout on the input features.
            (default: ``0.0``)
        **kwargs (optional): further :class:`~torch_geometric.nn.models.GAT` arguments
            such as ``heads``.

    Raises:
        GkdError: :obj:`hidden_channels` is not divisible by ``heads``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 out_channels: int | None = None, dropout: float = 0.0,
                 attn_dropout: float | None = None, out_heads: int | None = None,
                 input_dropout: float = 0.0, **kwargs: Any) -> None:
        heads = kwargs.get("heads", 1)
        if kwargs.get("concat", True) and hidden_channels % heads:
            raise GkdError(f"GAT: hidden_channels {hidden_channels} (the width summed over "
                           f"heads) is not divisible by heads {heads}")
        object.__setattr__(self, "out_heads", out_heads)  # read by init_conv in __init__
        super().__init__(in_channels, hidden_channels, num_layers, out_channels,
                         dropout=dropout, **kwargs)
        self.attn_dropout = dropout if attn_dropout is None else attn_dropout
        self.input_dropout = input_dropout
        for conv in self.convs:
            conv.dropout = self.attn_dropout

    def init_conv(self, in_channels: int | tuple[int, int], out_channels: int,
                  **kwargs: Any) -> MessagePassing:
        if getattr(self, "_is_conv_to_out", False) and self.out_heads is not None:
            kwargs = {**kwargs, "heads": self.out_heads}
        return super().init_conv(in_channels, out_channels, **kwargs)

    def forward(self, x: Tensor, edge_index: Any, *args: Any, **kwargs: Any) -> Tensor:
        x = F.dropout(x, p=self.input_dropout, training=self.training)
        return super().forward(x, edge_index, *args, **kwargs)
