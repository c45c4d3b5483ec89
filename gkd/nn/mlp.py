"""The graph-free MLP student."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.resolver import normalization_resolver

from gkd.config import check_option
from gkd.ops.checks import check_count


class MLP(torch.nn.Module):
    r"""A multi-layer perceptron on node features, the student of GLNN-style
    distillation ("Graph-less Neural Networks", Zhang et al., ICLR 2022).

    Each hidden layer computes :math:`\mathbf{h} \leftarrow \mathrm{dropout}(
    \mathrm{ReLU}(\mathrm{norm}(\mathbf{W}\mathbf{h} + \mathbf{b})))`. Unlike PyG's
    :class:`~torch_geometric.nn.models.MLP`, the default is *no* normalisation (GLNN's
    students on small graphs use none), and :meth:`forward` can return every hidden
    representation.

    Args:
        in_channels (int): input feature size.
        hidden_channels (int): width of every hidden layer.
        out_channels (int): output size (classes).
        num_layers (int, optional): number of linear layers. (default: ``2``)
        dropout (float, optional): dropout after each hidden layer. (default: ``0.0``)
        norm (str, optional): ``"batch_norm"``, ``"layer_norm"`` (over each node's
            features, so a node's output never depends on the others in its batch) or
            ``None``. (default: ``None``)

    Raises:
        InputError: a size is not a positive integer.
        GkdError: :obj:`dropout` is not in :math:`[0, 1)` or :obj:`norm` is unknown.

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`
        - **output:** logits :math:`(|\mathcal{V}|, F_{out})`
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int,
                 num_layers: int = 2, dropout: float = 0.0, norm: str | None = None) -> None:
        super().__init__()
        for name, size in (("in_channels", in_channels), ("hidden_channels", hidden_channels),
                           ("out_channels", out_channels), ("num_layers", num_layers)):
            check_count(size, f"MLP {name}", minimum=1)
        check_option("dropout", dropout, "MLP dropout")
        check_option("norm", norm, "MLP norm")
        sizes = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.in_channels, self.hidden_channels, self.out_channels = (
            in_channels, hidden_channels, out_channels)
        self.num_layers, self.dropout, self.norm = num_layers, dropout, norm
        self.lins = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        node_wise = {"mode": "node"} if norm == "layer_norm" else {}  # PyG's default: graph
        self.norms = torch.nn.ModuleList(
            normalization_resolver(norm, hidden_channels, **node_wise) if norm
            else torch.nn.Identity() for _ in range(num_layers - 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Resets the parameters of every linear and normalisation layer."""
        for module in [*self.lins, *self.norms]:
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, x: Tensor,
                return_hidden: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        r"""Returns the logits, and with :obj:`return_hidden=True` also the list of hidden
        representations (after activation, before dropout).

        Args:
            x (Tensor): node features :math:`(N, F_{in})`.
            return_hidden (bool, optional): also return the hidden representations.
                (default: ``False``)

        Returns:
            Tensor or tuple: the logits :math:`(N, F_{out})`; with :obj:`return_hidden`,
            ``(logits, hidden)``, where ``hidden`` lists the ``num_layers - 1`` hidden
            representations :math:`(N, \text{hidden\_channels})`, first layer first.
        """
        hidden = []
        for lin, norm in zip(self.lins[:-1], self.norms):
            x = F.relu(norm(lin(x)))
            hidden.append(x)
            x = F.dropout(x, p=self.dropout, training=self.training)
        out = self.lins[-1](x)
        return (out, hidden) if return_hidden else out

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.hidden_channels}, "
                f"{self.out_channels}, num_layers={self.num_layers})")
