"""Atomic writes and safe loads: nothing a user saved is ever half-written."""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_atomic(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    r"""Writes :obj:`obj` as indented JSON to :obj:`path`, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    return _write_atomic(path, lambda f: f.write(text.encode()))


def save_torch(path: str | Path, obj: Any) -> Path:
    r"""Saves tensors (and plain Python containers of them) atomically."""
    return _write_atomic(path, lambda f: torch.save(obj, f))


def load_torch(path: str | Path) -> Any:
    r"""Loads a file written by :func:`save_torch` with ``weights_only=True``."""
    return torch.load(path, map_location="cpu", weights_only=True)
