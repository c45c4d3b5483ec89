"""GraphSAGE with GLNN's "gcn" aggregator as an option."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.models import GraphSAGE
from torch_geometric.typing import Adj

from gkd.errors import GkdError
from gkd.ops import scatter


class GCNAggregatorConv(torch.nn.Module):
    r"""The "gcn" aggregator of DGL's SAGEConv as GLNN and KRD use it:

    .. math::
        \mathbf{h}_v' = \mathbf{W}\,\frac{\sum_{u \in \mathcal{N}(v)} \mathbf{h}_u +
        s\,\mathbf{h}_v}{\deg(v) + s} + \mathbf{b},

    with no separate root weight. On GLNN's graph, which already carries one self-loop
    per node, the node's own state enters twice: :math:`s = 2` reproduces it on a graph
    without self-loops.

    :meth:`set_input_cache` with ``True`` reuses the last aggregation while the layer is
    called again with the very same, unmodified input tensor and adjacency, e.g. the first
    layer on fixed features in full-batch training (the teacher trainer switches it on
    there). It is off by default and must stay off when timing inference.

    Args:
        in_channels (int): input feature size.
        out_channels (int): output size.
        self_weight (float, optional): :math:`s`. (default: ``2.0``)
        bias (bool, optional): learn :math:`\mathbf{b}`. (default: ``True``)
    """

    def __init__(self, in_channels: int, out_channels: int, self_weight: float = 2.0,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.self_weight = self_weight
        self.lin = torch.nn.Linear(in_channels, out_channels, bias=bias)
        self.cache_input = False
        self._cache: tuple[Tensor, int, Adj, Tensor] | None = None

    def reset_parameters(self) -> None:
        r"""Resets the linear layer's parameters."""
        self.lin.reset_parameters()

    def set_input_cache(self, enabled: bool) -> None:
        r"""Switches the input-aggregation cache on or off (and empties it).

        Args:
            enabled (bool): reuse the aggregation of an unchanged input and adjacency.
        """
        self.cache_input, self._cache = enabled, None

    def forward(self, x: Tensor, edge_index: Adj) -> Tensor:
        r"""Applies the linear map to :meth:`aggregate`. With the input cache on, an input
        that requires no gradient and is the very same, unmodified tensor as in the last
        call, with the same adjacency object, reuses the last aggregation.

        Args:
            x (Tensor): node features :math:`(N, F_{in})`.
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)` (source, target), or a
                ``torch.sparse_csr`` ``adj_t`` (:func:`~gkd.ops.adjacency`).

        Returns:
            Tensor: node features :math:`(N, F_{out})`.
        """
        if not self.cache_input or x.requires_grad:
            self._cache = None
            return self.lin(self.aggregate(x, edge_index))
        cache = self._cache
        if cache is None or cache[0] is not x or cache[1] != x._version or \
                cache[2] is not edge_index:
            cache = self._cache = (x, x._version, edge_index, self.aggregate(x, edge_index))
        return self.lin(cache[3])

    def aggregate(self, x: Tensor, edge_index: Adj) -> Tensor:
        r"""The normalised sum :math:`(\sum_{u} \mathbf{h}_u + s\,\mathbf{h}_v) /
        (\deg(v) + s)` of every node, over its in-neighbours :math:`u`. With a sparse
        ``adj_t``, its stored values weight the sum, while :math:`\deg(v)` counts the
        stored entries of row :math:`v`.

        Args:
            x (Tensor): node features :math:`(N, F_{in})`.
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)` (source, target), or a
                ``torch.sparse_csr`` ``adj_t``.

        Returns:
            Tensor: the aggregated features :math:`(N, F_{in})`.
        """
        if isinstance(edge_index, Tensor) and edge_index.layout == torch.sparse_csr:
            summed = edge_index @ x
            deg = edge_index.crow_indices().diff().to(x.dtype)
        else:
            src, dst = edge_index
            summed = scatter(x.index_select(0, src), dst, x.size(0), "sum")
            deg = scatter(torch.ones_like(dst, dtype=x.dtype), dst, x.size(0), "sum")
        s = self.self_weight
        return (summed + s * x) / (deg + s).unsqueeze(-1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels})"


class SAGE(GraphSAGE):
    r"""PyG's :class:`~torch_geometric.nn.models.GraphSAGE` ("Inductive Representation
    Learning on Large Graphs", Hamilton et al., NeurIPS 2017) that also accepts
    ``aggr="gcn"``: every layer is then a :class:`GCNAggregatorConv`, the teacher of the
    GLNN reference. Any other :obj:`aggr` gives PyG's mean/max/... aggregation with a
    separate root weight.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): hidden width.
        num_layers (int): number of layers.
        out_channels (int, optional): output size. (default: ``None``)
        aggr (str, optional): ``"gcn"`` or a PyG aggregation. (default: ``"mean"``)
        **kwargs (optional): further :class:`~torch_geometric.nn.models.GraphSAGE`
            arguments.
    """

    def init_conv(self, in_channels: int | tuple[int, int], out_channels: int,
                  **kwargs: Any) -> MessagePassing:
        r"""Builds one layer: a :class:`GCNAggregatorConv` when ``aggr="gcn"`` (which
        takes no further layer options), else PyG's
        :class:`~torch_geometric.nn.conv.SAGEConv`.

        Args:
            in_channels (int or tuple): input feature size.
            out_channels (int): output size.
            **kwargs (optional): the model's further arguments, :obj:`aggr` included.

        Returns:
            MessagePassing: the layer (a :class:`GCNAggregatorConv` is a plain
            :class:`torch.nn.Module`).

        Raises:
            GkdError: ``aggr="gcn"`` with further layer options (e.g. ``bias``) or a
                pair of input sizes.
        """
        if kwargs.get("aggr") == "gcn":
            ignored = sorted(set(kwargs) - {"aggr"})
            if ignored or not isinstance(in_channels, int):
                raise GkdError(f"aggr='gcn' builds GCNAggregatorConv layers, which take one "
                               f"input size and no further layer options; got in_channels="
                               f"{in_channels!r} and {', '.join(ignored) or 'no options'}")
            return GCNAggregatorConv(in_channels, out_channels)
        return super().init_conv(in_channels, out_channels, **kwargs)
