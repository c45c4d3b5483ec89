"""Compressed sparse row (CSR) graphs."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import torch
from torch import Tensor

from gkd.errors import InputError
from gkd.ops.checks import (
    check_count,
    check_edge_index,
    check_node_ids,
    check_ptr,
)


@contextmanager
def quiet_sparse_csr() -> Iterator[None]:
    r"""Silences torch's beta and invariant-check notices for sparse CSR tensors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks")
        yield


def half_on_cpu(t: Tensor) -> bool:
    r"""Whether :obj:`t` is float16 or bfloat16 on the CPU, where torch has no sparse-dense
    kernels: the sparse products compute in float32 then."""
    return t.device.type == "cpu" and t.dtype in (torch.float16, torch.bfloat16)


@dataclass(eq=False)  # tensors do not compare to one bool: graphs compare by identity
class CSRGraph:
    r"""In-neighbour lists in compressed form: the sources of the edges into node ``i`` are
    ``col[rowptr[i]:rowptr[i + 1]]``.

    Args:
        rowptr (Tensor): offsets :math:`(N + 1)`, stored as ``torch.long``.
        col (Tensor): source nodes :math:`(|\mathcal{E}|)`, in ``[0, N)``, stored as
            ``torch.long``.

    Raises:
        InputError: :obj:`rowptr` does not rise from ``0`` to :math:`|\mathcal{E}|`, or
            :obj:`col` is not an integer vector of node ids in ``[0, N)`` (offsets and ids
            are checked on the CPU only).
    """

    rowptr: Tensor
    col: Tensor

    def __post_init__(self) -> None:
        self.rowptr = check_ptr(self.rowptr, self.col.numel(), "rowptr")
        check_node_ids(self.col, self.num_nodes, "col")
        self.col = self.col.long()  # pair keys such as col * N + target need 64 bits

    @classmethod
    def _built(cls, rowptr: Tensor, col: Tensor) -> CSRGraph:
        r"""A graph whose offsets and ids are valid by construction: the checks of the
        constructor are skipped (they cost a pass over the edges on every call of a hot
        path such as :func:`~gkd.ops.pair_dot`)."""
        graph = object.__new__(cls)
        graph.rowptr, graph.col = rowptr.long(), col.long()
        return graph

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: int) -> CSRGraph:
        r"""Builds the CSR form of :obj:`edge_index` (source, target), grouped by target;
        the sources of one target keep their order in :obj:`edge_index`.

        Args:
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)`, source first.
            num_nodes (int): the number of nodes :math:`N`.

        Returns:
            CSRGraph: the graph, on :obj:`edge_index`'s device.

        Raises:
            InputError: :obj:`edge_index` is not an integer ``[2, E]`` tensor, or holds a
                node id outside ``[0, num_nodes)``.
        """
        check_count(num_nodes, "num_nodes")
        check_edge_index(edge_index, num_nodes)
        src, dst = edge_index
        order = cls.edge_order(edge_index)
        counts = torch.bincount(dst, minlength=num_nodes)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
        torch.cumsum(counts, 0, out=rowptr[1:])
        return cls._built(rowptr, src[order])

    @staticmethod
    def edge_order(edge_index: Tensor) -> Tensor:
        r"""Where each stored edge of :meth:`from_edge_index` comes from in
        :obj:`edge_index`: ``edge_weight[CSRGraph.edge_order(edge_index)]`` aligns values
        given per edge of :obj:`edge_index` (PyG's ``edge_weight``) with :obj:`col`.

        Args:
            edge_index (Tensor): edges :math:`(2, |\mathcal{E}|)`, source first.

        Returns:
            Tensor: a permutation of :math:`0..|\mathcal{E}|-1`.
        """
        return torch.argsort(edge_index[1], stable=True)

    @property
    def num_nodes(self) -> int:
        r"""The number of nodes :math:`N`."""
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        r"""The number of stored edges :math:`|\mathcal{E}|`."""
        return self.col.numel()

    def degree(self) -> Tensor:
        r"""The in-degree of every node.

        Returns:
            Tensor: the number of stored edges into every node :math:`(N)`, as
            ``torch.long``.
        """
        return self.rowptr.diff()

    @cached_property
    def max_degree(self) -> int:
        r"""The largest in-degree (``0`` without nodes), computed once per graph."""
        return int(self.degree().max()) if self.num_nodes else 0

    def targets(self) -> Tensor:
        r"""The target node of every stored edge, aligned with :obj:`col`.

        Returns:
            Tensor: target node ids :math:`(|\mathcal{E}|)`, as ``torch.long``, in
            non-decreasing order.
        """
        return torch.repeat_interleave(torch.arange(self.num_nodes, device=self.col.device),
                                       self.degree())

    def to_sparse(self, values: Tensor | None = None, num_cols: int | None = None) -> Tensor:
        r"""The graph as a ``torch.sparse_csr`` matrix whose row ``i`` holds the edges into
        node ``i``.

        Args:
            values (Tensor, optional): the stored values :math:`(|\mathcal{E}|)`, aligned
                with :obj:`col`. (default: ``None``, ones of the default dtype)
            num_cols (int, optional): the number of columns. (default: ``None``, the
                number of nodes)

        Returns:
            Tensor: the sparse CSR matrix :math:`(N, \text{num\_cols})`.
        """
        if values is None:
            values = torch.ones(self.num_edges, device=self.col.device)
        elif values.shape != (self.num_edges,):
            raise InputError(f"values must hold one entry per edge ({self.num_edges}); got "
                             f"shape {tuple(values.shape)}")
        size = (self.num_nodes, self.num_nodes if num_cols is None else num_cols)
        with quiet_sparse_csr():
            return torch.sparse_csr_tensor(self.rowptr, self.col, values, size=size)
