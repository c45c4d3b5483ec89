r"""Scatter and segment reductions along the first dimension.

Both backends give the same outputs: a position no element reaches gets ``0`` for every
reduction, and ``mean`` divides by the number of elements (at least one); sums may differ
in the last bits where their kernels add in different orders, and half-precision sums add
up in float32 on either. Values must be floating point: on integers torch-scatter's
``mean`` rounds down in :func:`scatter` but towards zero in :func:`segment`, and plain
torch has no integer segment kernels. ``max`` and ``min`` run on torch's own kernels
whatever the backend: torch-scatter's return ``0`` (:func:`scatter`) or the largest
finite value (:func:`segment`) where the extreme is infinite, or is the dtype's largest
finite value itself. Indices and offsets are checked on the CPU, where torch-scatter's
kernels would otherwise read and write out of bounds; on a GPU the check would cost a
device sync per call and is left out.
"""
from __future__ import annotations

import torch
from torch import Tensor

from gkd.errors import InputError
from gkd.ops.backend import get_backend
from gkd.ops.checks import check_count, check_node_ids, check_ptr
from gkd.ops.csr import half_on_cpu, quiet_sparse_csr

REDUCTIONS = ("sum", "mean", "max", "min")


def _check(src: Tensor, reduce: str) -> None:
    if reduce not in REDUCTIONS:
        raise InputError(f"unknown reduction '{reduce}'; choose from {', '.join(REDUCTIONS)}")
    if not src.is_floating_point():
        raise InputError(f"scatter and segment reduce floating-point values; got {src.dtype}")
    if src.dim() == 0:
        raise InputError("scatter and segment reduce the rows of src: it needs at least one "
                         "dimension; got a scalar")


def _check_index(index: Tensor, num_rows: int, dim_size: int) -> Tensor:
    check_count(dim_size, "dim_size")
    check_node_ids(index, dim_size, "index")  # output rows, in [0, dim_size)
    if index.numel() != num_rows:
        raise InputError(f"index must hold one entry per row of src ({num_rows}); got "
                         f"{index.numel()}")
    return index.long()


def _broadcast(per_row: Tensor, like: Tensor) -> Tensor:
    return per_row.view(-1, *([1] * (like.dim() - 1))).expand_as(like)


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str = "sum") -> Tensor:
    r"""Reduces the rows of :obj:`src` that share an :obj:`index` value:
    ``out[i] = reduce(src[j] for j with index[j] == i)``.

    Args:
        src (Tensor): floating-point values :math:`(E, *)`.
        index (Tensor): target row of each value :math:`(E)`, in ``[0, dim_size)``.
        dim_size (int): number of output rows (always given: inferring it forces a
            device sync).
        reduce (str, optional): ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.
            (default: ``"sum"``)

    Returns:
        Tensor: the reduced values, ``0`` in rows that no index reaches.

    Shapes:
        - **output:** :math:`(\text{dim\_size}, *)`

    Raises:
        InputError: an unknown :obj:`reduce`, :obj:`src` is not floating point,
            :obj:`dim_size` is not a non-negative integer, or :obj:`index` is not an
            integer vector of one entry per row of :obj:`src`, in ``[0, dim_size)``.
    """
    _check(src, reduce)
    index = _check_index(index, src.size(0), dim_size)
    if reduce in ("sum", "mean") and half_on_cpu(src):  # index_add_ would add up in it
        return scatter(src.float(), index, dim_size, reduce).to(src.dtype)
    if reduce in ("sum", "mean") and get_backend() == "torch_scatter":
        import torch_scatter

        return torch_scatter.scatter(src, index, 0, dim_size=dim_size, reduce=reduce)
    out = src.new_zeros((dim_size, *src.shape[1:]))
    if reduce in ("sum", "mean"):
        out.index_add_(0, index, src)
        if reduce == "mean":
            count = torch.bincount(index, minlength=dim_size).clamp_(min=1)
            out /= _broadcast(count.to(out.dtype), out)
        return out
    return out.scatter_reduce_(0, _broadcast(index, src), src, "amax" if reduce == "max"
                               else "amin", include_self=False)


def _segment_sum_as_product(src: Tensor, ptr: Tensor, mean: bool) -> Tensor:
    # A sparse matrix with one row of ones per segment times src: the sparse-dense kernel
    # streams src several times faster than segment_reduce on CPU (benchmarks/ops.py).
    count, segments = src.size(0), ptr.numel() - 1
    with quiet_sparse_csr():
        rows = torch.sparse_csr_tensor(
            ptr, torch.arange(count, device=src.device),
            torch.ones(count, dtype=src.dtype, device=src.device), size=(segments, count))
    out = (rows @ src.reshape(count, -1)).reshape(segments, *src.shape[1:])
    if mean:
        out /= _broadcast(ptr.diff().clamp(min=1).to(src.dtype), out)
    return out


def segment(src: Tensor, ptr: Tensor, reduce: str = "sum") -> Tensor:
    r"""Reduces consecutive runs of rows: ``out[i] = reduce(src[ptr[i]:ptr[i + 1]])``,
    the CSR form of :func:`scatter` for sorted indices (no atomics, no index tensor).

    Args:
        src (Tensor): floating-point values :math:`(E, *)`, grouped by segment.
        ptr (Tensor): segment offsets :math:`(S + 1)`, from ``0`` to ``E``.
        reduce (str, optional): ``"sum"``, ``"mean"``, ``"max"`` or ``"min"``.
            (default: ``"sum"``)

    Returns:
        Tensor: the reduced values, ``0`` for empty segments.

    Shapes:
        - **output:** :math:`(S, *)`

    Raises:
        InputError: an unknown :obj:`reduce`, :obj:`src` is not floating point, or
            :obj:`ptr` does not rise from ``0`` to ``E``.
    """
    _check(src, reduce)
    ptr = check_ptr(ptr, src.size(0))
    if src.size(0) == 0:  # every segment empty; the plain-torch kernels reject no rows
        return src.new_zeros(ptr.numel() - 1, *src.shape[1:]) + src.sum(0) * 0  # keeps grad
    if reduce in ("sum", "mean"):
        if half_on_cpu(src):  # adding up in it, bfloat16 stops at 256 and float16 overflows
            return segment(src.float(), ptr, reduce).to(src.dtype)
        if get_backend() == "torch_scatter":
            import torch_scatter

            return torch_scatter.segment_csr(src, ptr, reduce=reduce)
        return _segment_sum_as_product(src, ptr, reduce == "mean")
    out = torch.segment_reduce(src, reduce, offsets=ptr, axis=0)
    return out.masked_fill(_broadcast(ptr[1:] == ptr[:-1], out), 0)  # empty: ±inf or NaN
