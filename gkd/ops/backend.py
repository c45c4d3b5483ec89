r"""The one dispatch point between torch-scatter kernels and plain torch.

gkd uses torch-scatter when PyG found a working installation
(:obj:`torch_geometric.typing.WITH_TORCH_SCATTER`, which also guards against broken
binaries) and plain torch otherwise. ``GKD_OPS_BACKEND=torch`` forces plain torch;
:func:`use_backend` switches within a block (tests and benchmarks compare both).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from torch_geometric import typing as pyg_typing

from gkd.errors import GkdError

BACKENDS = ("torch", "torch_scatter")
# per thread (and task): a block in one thread does not switch another's backend
_forced: ContextVar[str | None] = ContextVar("gkd_ops_backend", default=None)


def available_backends() -> tuple[str, ...]:
    r"""The backends usable here: always ``"torch"``, and ``"torch_scatter"`` when it is
    installed and loads.

    Returns:
        tuple[str, ...]: ``("torch",)`` or ``("torch", "torch_scatter")``, the fastest
        last.
    """
    return BACKENDS if pyg_typing.WITH_TORCH_SCATTER else BACKENDS[:1]


def _check(name: str) -> str:
    if name not in BACKENDS:
        raise GkdError(f"unknown ops backend '{name}'; choose from {', '.join(BACKENDS)}")
    if name not in available_backends():
        raise GkdError(f"ops backend '{name}' is not available: torch-scatter is not "
                       f"installed or failed to load")
    return name


def get_backend() -> str:
    r"""The backend in force: the innermost :func:`use_backend`, else
    ``GKD_OPS_BACKEND``, else the fastest available one.

    Returns:
        str: ``"torch"`` or ``"torch_scatter"``.

    Raises:
        GkdError: ``GKD_OPS_BACKEND`` names an unknown or unavailable backend.
    """
    forced = _forced.get()
    if forced is not None:
        return forced
    requested = os.environ.get("GKD_OPS_BACKEND")
    return _check(requested) if requested else available_backends()[-1]


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    r"""Runs the enclosed block on backend :obj:`name`; blocks nest, the innermost
    winning. A context manager that yields nothing: within
    ``with use_backend("torch"):``, :func:`get_backend` returns ``"torch"`` in this
    thread (other threads keep theirs), and on exit, even by an exception, the backend in
    force before is restored.

    Args:
        name (str): ``"torch"`` or ``"torch_scatter"``.

    Raises:
        GkdError: :obj:`name` is unknown, or is ``"torch_scatter"`` where torch-scatter
            is not installed or fails to load.
    """
    token = _forced.set(_check(name))
    try:
        yield
    finally:
        _forced.reset(token)
