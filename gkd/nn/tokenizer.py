r"""The structure-aware graph tokenizer of VQGraph: a GNN whose node embeddings are
vector-quantised, trained as a VQ-VAE with a classification head."""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.typing import Adj

from gkd.nn.vq import VectorQuantizer, VQOutput
from gkd.ops.sparse import pair_dot


class TokenizerOutput(NamedTuple):
    r"""What :meth:`GraphTokenizer.encode` returns."""
    logits: Tensor  #: class logits :math:`(N, C)`
    embedding: Tensor  #: the encoder's output, the quantiser's input :math:`(N, D)`
    vq: VQOutput  #: the quantiser's output (codes, scores against every code, VQ loss)


class GraphTokenizer(torch.nn.Module):
    r"""A graph tokenizer ("VQGraph: Rethinking Graph Representation Space for Bridging
    GNNs and MLPs", Yang et al., ICLR 2024): a GNN :obj:`encoder` maps every node to
    :math:`\mathbf{h}_v \in \mathbb{R}^D`, a :class:`~gkd.nn.VectorQuantizer` replaces it
    by its nearest code :math:`\mathbf{q}_v` (straight-through gradients), and a graph
    :obj:`head` classifies the quantised nodes after dropout. Two linear decoders read
    :math:`\mathbf{q}` for the VQ-VAE losses: :meth:`feature_loss` reconstructs the node
    features, :meth:`edge_loss` scores node pairs by inner products of decoded vectors.

    Unlike the reference, the codes live in a :math:`D`-dimensional space of the
    encoder's choosing rather than the raw feature space, and the structure loss scores
    given edges against sampled non-edges instead of a dense :math:`N \times N` matrix.

    Args:
        encoder (torch.nn.Module): called as ``encoder(x, edge_index)``, returns
            :math:`(N, D)`.
        quantizer (VectorQuantizer): the codebook, of dimension :math:`D`.
        head (torch.nn.Module): called as ``head(q, edge_index)`` on the quantised nodes,
            returns class logits.
        in_channels (int): the node feature size, the output of the feature decoder.
        dropout (float, optional): dropout on :math:`\mathbf{q}` before the head.
            (default: ``0.0``)

    Shapes:
        - **input:** node features :math:`(N, F)`, edges
        - **output:** class logits :math:`(N, C)`
    """

    def __init__(self, encoder: torch.nn.Module, quantizer: VectorQuantizer,
                 head: torch.nn.Module, in_channels: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder, self.quantizer, self.head = encoder, quantizer, head
        self.dropout = dropout
        self.feature_decoder = torch.nn.Linear(quantizer.dim, in_channels)
        self.edge_decoder = torch.nn.Linear(quantizer.dim, quantizer.dim)

    def encode(self, x: Tensor, edge_index: Adj) -> TokenizerOutput:
        r"""Embeds, quantises (updating the codebook statistics in training mode) and
        classifies every node.

        Args:
            x (Tensor): node features :math:`(N, F)`.
            edge_index (Tensor): the edges in whatever form :obj:`encoder` and
                :obj:`head` take, e.g. :math:`(2, |\mathcal{E}|)` or a sparse ``adj_t``.

        Returns:
            TokenizerOutput: the class logits :math:`(N, C)`, the encoder's output
            :math:`(N, D)` and the quantiser's output.
        """
        embedding = self.encoder(x, edge_index)
        vq = self.quantizer(embedding)
        q = F.dropout(vq.quantized, p=self.dropout, training=self.training)
        return TokenizerOutput(self.head(q, edge_index), embedding, vq)

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        r"""The class logits, so that the tokenizer serves as a teacher classifier.

        Args:
            x (Tensor): node features :math:`(N, F)`.
            edge_index (Tensor): the edges, as in :meth:`encode`.

        Returns:
            Tensor: class logits :math:`(N, C)`.
        """
        return self.encode(x, edge_index).logits

    def feature_loss(self, out: TokenizerOutput, x: Tensor) -> Tensor:
        r"""Mean squared error of the features decoded from the quantised nodes.

        Args:
            out (TokenizerOutput): the output of :meth:`encode`.
            x (Tensor): the node features to reconstruct :math:`(N, F)`.

        Returns:
            Tensor: the scalar loss.
        """
        return F.mse_loss(self.feature_decoder(out.vq.quantized), x)

    def edge_loss(self, out: TokenizerOutput, edges: Tensor, non_edges: Tensor) -> Tensor:
        r"""Binary cross-entropy of the pair scores :math:`\langle \mathbf{z}_u,
        \mathbf{z}_v \rangle`, :math:`\mathbf{z} = \mathrm{dec}(\mathbf{q})`, with label 1
        on :obj:`edges` and 0 on :obj:`non_edges` (both :math:`(2, \cdot)`), averaged over
        all pairs. Memory is linear in the number of pairs.

        Args:
            out (TokenizerOutput): the output of :meth:`encode`.
            edges (Tensor): node pairs labelled 1 :math:`(2, P_{+})`.
            non_edges (Tensor): node pairs labelled 0 :math:`(2, P_{-})`.

        Returns:
            Tensor: the scalar loss.
        """
        z = self.edge_decoder(out.vq.quantized)
        scores = pair_dot(z, torch.cat([edges, non_edges], dim=1))
        labels = torch.cat([scores.new_ones(edges.size(1)), scores.new_zeros(non_edges.size(1))])
        return F.binary_cross_entropy_with_logits(scores, labels)
