"""GAT with attention dropout separate from feature dropout."""
from __future__ import annotations

from typing import Any

from torch_geometric.nn.models import GAT as PyGGAT

from gkd.errors import GkdError


class GAT(PyGGAT):
    r"""PyG's :class:`~torch_geometric.nn.models.GAT` ("Graph Attention Networks",
    Veličković et al., ICLR 2018) with a dropout on the attention coefficients that is
    set apart from the dropout on features.

    PyG passes its feature dropout to every :class:`~torch_geometric.nn.conv.GATConv`
    as the attention dropout; GLNN and KRD use separate values (e.g. 0.6 on features,
    0.3 on attention on Cora).

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden width, summed over heads.
        num_layers (int): number of message-passing layers.
        out_channels (int, optional): output size. (default: ``None``)
        dropout (float, optional): feature dropout. (default: ``0.0``)
        attn_dropout (float, optional): attention-coefficient dropout; ``None`` keeps
            PyG's behaviour (the feature dropout). (default: ``None``)
        **kwargs (optional): further :class:`~torch_geometric.nn.models.GAT` arguments
            such as ``heads``.

    Raises:
        GkdError: :obj:`hidden_channels` is not divisible by ``heads``.
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int,
                 out_channels: int | None = None, dropout: float = 0.0,
                 attn_dropout: float | None = None, **kwargs: Any) -> None:
        heads = kwargs.get("heads", 1)
        if kwargs.get("concat", True) and hidden_channels % heads:
            raise GkdError(f"GAT: hidden_channels {hidden_channels} (the width summed over "
                           f"heads) is not divisible by heads {heads}")
        super().__init__(in_channels, hidden_channels, num_layers, out_channels,
                         dropout=dropout, **kwargs)
        self.attn_dropout = dropout if attn_dropout is None else attn_dropout
        for conv in self.convs:
            conv.dropout = self.attn_dropout
