"""Input checks of the graph primitives: integer tensors, node ids, edge indices, offsets
and counts. Each raises an :class:`~gkd.errors.InputError` that names the argument."""
from __future__ import annotations

import numbers

import torch
from torch import Tensor

from gkd.errors import InputError


def is_integer(tensor: Tensor) -> bool:
    r"""Whether :obj:`tensor` holds integers (not floating point, complex or bool)."""
    return not (tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool)


def check_edge_index(edge_index: Tensor, num_nodes: int, name: str = "edge_index") -> None:
    r"""Raises a :class:`~gkd.errors.InputError` unless :obj:`edge_index` is an integer
    tensor of shape ``[2, E]`` whose node ids lie in ``[0, num_nodes)``; one min/max pass.

    Args:
        edge_index (Tensor): node id pairs :math:`(2, E)`.
        num_nodes (int): the number of nodes.
        name (str, optional): what the message calls :obj:`edge_index`.
            (default: ``"edge_index"``)
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or not is_integer(edge_index):
        raise InputError(f"{name} must be an integer tensor of shape [2, E]; got "
                         f"{edge_index.dtype} of shape {tuple(edge_index.shape)}")
    _check_range(edge_index, num_nodes, name)


def integer_bounds(tensor: Tensor) -> tuple[int, int]:
    r"""The smallest and largest entry of a non-empty integer tensor, as Python ints (in
    one pass; unsigned types without a kernel for it are read as int64)."""
    if tensor.dtype in (torch.uint16, torch.uint32, torch.uint64):
        tensor = tensor.long()
    low, high = torch.aminmax(tensor)
    return int(low), int(high)


def _check_range(ids: Tensor, num_nodes: int, name: str) -> None:
    if ids.numel():
        low, high = integer_bounds(ids)
        if low < 0 or high >= num_nodes:
            raise InputError(f"node ids must be in [0, {num_nodes}); {name} holds ids from "
                             f"{low} to {high}")


def check_node_ids(nodes: Tensor, num_nodes: int, name: str = "nodes") -> None:
    r"""Raises a :class:`~gkd.errors.InputError` unless :obj:`nodes` is an integer vector
    of node ids in ``[0, num_nodes)``; the range is checked on the CPU only (on a GPU it
    would cost a device sync per call).

    Args:
        nodes (Tensor): node ids :math:`(M)`.
        num_nodes (int): the number of nodes.
        name (str, optional): what the message calls :obj:`nodes`. (default: ``"nodes"``)
    """
    if nodes.dim() != 1 or not is_integer(nodes):
        raise InputError(f"{name} must be an integer vector of node ids; got {nodes.dtype} of "
                         f"shape {tuple(nodes.shape)}")
    if nodes.device.type == "cpu":
        _check_range(nodes, num_nodes, name)


def check_count(value: int, name: str, minimum: int | None = 0) -> None:
    r"""Raises a :class:`~gkd.errors.InputError` unless :obj:`value` is an integer of at
    least :obj:`minimum` (a walk length, a number of walks or hops; any integer when
    :obj:`minimum` is ``None``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            minimum is not None and value < minimum):
        bound = "" if minimum is None else f" of at least {minimum}"
        raise InputError(f"{name} must be an integer{bound}; got {value!r}")


def check_ptr(ptr: Tensor, num_rows: int, name: str = "ptr") -> Tensor:
    r"""Raises a :class:`~gkd.errors.InputError` unless :obj:`ptr` is a 1-D integer tensor
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
        raise InputError(f"{name} must be a non-empty integer vector of offsets; got "
                         f"{ptr.dtype} of shape {tuple(ptr.shape)}")
    ptr = ptr.long()
    if ptr.device.type == "cpu" and (int(ptr[0]) != 0 or int(ptr[-1]) != num_rows
                                     or bool((ptr[1:] < ptr[:-1]).any())):
        raise InputError(f"{name} must rise from 0 to {num_rows} (the rows it splits) without "
                         f"decreasing; got {ptr.numel()} offsets from {int(ptr[0])} to "
                         f"{int(ptr[-1])}")
    return ptr
