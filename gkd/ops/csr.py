"""Compressed sparse row (CSR) graphs."""
from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor

from gkd.errors import GkdError


@contextmanager
def quiet_sparse_csr() -> Iterator[None]:
    r"""Silences torch's beta and invariant-check notices for sparse CSR tensors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        warnings.filterwarnings("ignore", message="Sparse invariant checks")
        yield


def is_integer(tensor: Tensor) -> bool:
    r"""Whether :obj:`tensor` holds integers (not floating point, complex or bool)."""
    return not (tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool)


def check_edge_index(edge_index: Tensor, num_nodes: int, name: str = "edge_index") -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`edge_index` is an integer
    tensor of shape ``[2, E]`` whose node ids lie in ``[0, num_nodes)``; one min/max pass.

    Args:
        edge_index (Tensor): node id pairs :math:`(2, E)`.
        num_nodes (int): the number of nodes.
        name (str, optional): what the message calls :obj:`edge_index`.
            (default: ``"edge_index"``)
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or not is_integer(edge_index):
        raise GkdError(f"{name} must be an integer tensor of shape [2, E]; got "
                       f"{edge_index.dtype} of shape {tuple(edge_index.shape)}")
    _check_range(edge_index, num_nodes, name)


def _check_range(ids: Tensor, num_nodes: int, name: str) -> None:
    if ids.numel():
        low, high = (int(bound) for bound in torch.aminmax(ids))
        if low < 0 or high >= num_nodes:
            raise GkdError(f"node ids must be in [0, {num_nodes}); {name} holds ids from "
                           f"{low} to {high}")


def check_node_ids(nodes: Tensor, num_nodes: int, name: str = "nodes") -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`nodes` is an integer vector
    of node ids in ``[0, num_nodes)``; the range is checked on the CPU only (on a GPU it
    would cost a device sync per call).

    Args:
        nodes (Tensor): node ids :math:`(M)`.
        num_nodes (int): the number of nodes.
        name (str, optional): what the message calls :obj:`nodes`. (default: ``"nodes"``)
    """
    if nodes.dim() != 1 or not is_integer(nodes):
        raise GkdError(f"{name} must be an integer vector of node ids; got {nodes.dtype} of "
                       f"shape {tuple(nodes.shape)}")
    if nodes.device.type == "cpu":
        _check_range(nodes, num_nodes, name)


def check_count(value: int, name: str, minimum: int | None = 0) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`value` is an integer of at
    least :obj:`minimum` (a walk length, a number of walks or hops; any integer when
    :obj:`minimum` is ``None``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            minimum is not None and value < minimum):
        bound = "" if minimum is None else f" of at least {minimum}"
        raise GkdError(f"{name} must be an integer{bound}; got {value!r}")


def check_ptr(ptr: Tensor, num_rows: int, name: str = "ptr") -> Tensor:
    r"""Raises a :class:`~gkd.errors.GkdError` unless :obj:`ptr` is a 1-D integer tensor
    of offsets that rise without decreasing from ``0`` to :obj:`num_rows`; the values
    are checked on the CPU only (on a GPU that would cost a device sync per call).

    Args:
        ptr (Tensor): offsets :math:`(S + 1)`.
        num_rows (int): the number of rows the offsets split.
        name (str, optional): what the message calls :obj:`ptr`. (default: ``"ptr"``)

    Returns:
        Tensor: :obj:`ptr` as ``torch.long``.
    """
    if ptr.dim() != 1 or ptr.numel() == 0 or not is_integer(ptr):
        raise GkdError(f"{name} must be a non-empty integer vector of offsets; got "
                       f"{ptr.dtype} of shape {tuple(ptr.shape)}")
    ptr = ptr.long()
    if ptr.device.type == "cpu" and (int(ptr[0]) != 0 or int(ptr[-1]) != num_rows
                                     or bool((ptr[1:] < ptr[:-1]).any())):
        raise GkdError(f"{name} must rise from 0 to {num_rows} (the rows it splits) without "
                       f"decreasing; got {ptr.numel()} offsets from {int(ptr[0])} to "
                       f"{int(ptr[-1])}")
    return ptr


@dataclass
class CSRGraph:
    r"""In-neighbour lists in compressed form: the sources of the edges into node ``i`` are
    ``col[rowptr[i]:rowptr[i + 1]]``.

    Args:
        rowptr (Tensor): offsets :math:`(N + 1)`.
        col (Tensor): source nodes :math:`(|\mathcal{E}|)`.
    """

    rowptr: Tensor
    col: Tensor

    def __post_init__(self) -> None:
        if self.col.dim() != 1 or not is_integer(self.col):
            raise GkdError(f"col must be an integer vector of source nodes; got "
                           f"{self.col.dtype} of shape {tuple(self.col.shape)}")
        self.rowptr = check_ptr(self.rowptr, self.col.numel(), "rowptr")

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
            GkdError: :obj:`edge_index` is not an integer ``[2, E]`` tensor, or holds a
                node id outside ``[0, num_nodes)``.
        """
        check_count(num_nodes, "num_nodes")
        check_edge_index(edge_index, num_nodes)
        src, dst = edge_index
        order = torch.argsort(dst, stable=True)
        counts = torch.bincount(dst, minlength=num_nodes)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
        torch.cumsum(counts, 0, out=rowptr[1:])
        return cls(rowptr, src[order])

    @property
    def num_nodes(self) -> int:
        r"""The number of nodes :math:`N`."""
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        r"""The number of stored edges :math:`|\mathcal{E}|`."""
        return self.col.numel()

    def degree(self) -> Tensor:
        r"""The in-degree of every node :math:`(N)`."""
        return self.rowptr.diff()

    def targets(self) -> Tensor:
        r"""The target node of every stored edge :math:`(|\mathcal{E}|)`, aligned with
        :obj:`col`."""
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
        size = (self.num_nodes, self.num_nodes if num_cols is None else num_cols)
        with quiet_sparse_csr():
            return torch.sparse_csr_tensor(self.rowptr, self.col, values, size=size)
