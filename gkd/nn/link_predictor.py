"""Link predictors: a node encoder and an MLP decoder on the Hadamard product of two node
embeddings."""
from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn.inits import reset
from torch_geometric.typing import Adj

from gkd.nn.mlp import MLP


class HadamardDecoder(torch.nn.Module):
    r"""Scores a node pair :math:`(u, v)` as :math:`\mathrm{MLP}(\mathbf{h}_u \odot
    \mathbf{h}_v)`, a logit (apply a sigmoid for the link probability).

    Args:
        in_channels (int): node embedding size.
        hidden_channels (int): width of the hidden layers.
        num_layers (int, optional): number of linear layers. (default: ``2``)
        dropout (float, optional): dropout after each hidden layer. (default: ``0.0``)
    """

    def __init__(self, in_channels: int, hidden_channels: int, num_layers: int = 2,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.mlp = MLP(in_channels, hidden_channels, 1, num_layers=num_layers, dropout=dropout)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, h_src: Tensor, h_dst: Tensor) -> Tensor:
        r"""Logits :math:`(P)` of the pairs whose endpoint embeddings are the rows of
        :obj:`h_src` and :obj:`h_dst` :math:`(P, F)`."""
        return self.mlp(h_src * h_dst).view(-1)


class LinkPredictor(torch.nn.Module):
    r"""A node encoder and a :class:`HadamardDecoder`. The encoder is a GNN called as
    ``encoder(x, edge_index)`` or, with :obj:`graph_free`, an MLP called as
    ``encoder(x)`` (the student of "Linkless Link Prediction via Relational
    Distillation", Guo et al., ICML 2023).

    Args:
        encoder (torch.nn.Module): maps node features to embeddings of size
            :obj:`embedding_channels`.
        embedding_channels (int): the encoder's output size.
        decoder_layers (int, optional): linear layers of the decoder. (default: ``2``)
        dropout (float, optional): the decoder's dropout. (default: ``0.0``)
        graph_free (bool, optional): the encoder takes no edges. (default: ``False``)
    """

    def __init__(self, encoder: torch.nn.Module, embedding_channels: int,
                 decoder_layers: int = 2, dropout: float = 0.0, graph_free: bool = False) -> None:
        super().__init__()
        self.encoder, self.graph_free = encoder, graph_free
        self.embedding_channels = embedding_channels
        self.decoder = HadamardDecoder(embedding_channels, embedding_channels, decoder_layers,
                                       dropout)

    def reset_parameters(self) -> None:
        reset(self.encoder)
        self.decoder.reset_parameters()

    def encode(self, x: Tensor, edge_index: Adj | None = None) -> Tensor:
        r"""Node embeddings :math:`(N, F)`; :obj:`edge_index` is ignored when graph-free."""
        return self.encoder(x) if self.graph_free else self.encoder(x, edge_index)

    def score(self, h: Tensor, pairs: Tensor) -> Tensor:
        r"""Logits :math:`(P)` of the node pairs :math:`(2, P)` from embeddings :obj:`h`."""
        return self.decoder(h[pairs[0]], h[pairs[1]])

    def forward(self, x: Tensor, edge_index: Adj | None, pairs: Tensor) -> Tensor:
        return self.score(self.encode(x, edge_index), pairs)
