"""Loading OGB datasets from a read-only data root, without prompts.

ogb 1.3.6 writes its processed file next to the raw files, asks on stdin before
(re)downloading, and reads its processed file with ``torch.load`` defaults that
torch >= 2.6 rejects. Here the raw folder is mirrored into the cache dir through
symbolic links (so processed files land in the cache), PyG's storage classes are
allow-listed for ``torch.load``, and stdin is detached so a prompt becomes a clear
error instead of a hang. Processed files are read weights-only, never through PyG's
fallback to a full unpickling, and one that cannot be read names its folder. The mirror
is keyed by the raw files' names, sizes, times and inodes (changed raw files get
fresh processed files), processes that open the same dataset take turns building it, and
processed files an interrupted build left are rebuilt.
"""
from __future__ import annotations

import hashlib
import io
import pickle
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import torch

from gkd.errors import GkdError, first_line
from gkd.io import file_lock, write_bytes

_MIRRORED = ("raw", "split", "mapping")
#: The file :func:`built_in_cache` writes into a ``processed`` folder whose build finished.
BUILT_MARKER = "gkd-build-complete"
# what PyG and ogb raise on a processed file that is truncated, corrupt or another's
_UNREADABLE = (RuntimeError, EOFError, pickle.UnpicklingError, UserWarning, AssertionError,
               TypeError)


def allow_pyg_storage_globals() -> None:
    r"""Allow-lists PyG's data classes for ``torch.load(weights_only=True)``.

    Idempotent; a no-op on torch versions without safe globals.
    """
    if not hasattr(torch.serialization, "add_safe_globals"):
        return
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    torch.serialization.add_safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage])


def mirror_folder(folder: Path, cache: Path) -> Path:
    r"""Mirrors a dataset folder of the read-only data root into the writable cache
    dir, so that a loader that writes its processed files beside the raw ones writes
    them into the cache. Used for OGB datasets (:func:`open_ogb_dataset`) and for TU
    datasets (:class:`~torch_geometric.datasets.TUDataset`), which read ``raw/`` and
    write ``processed/``.

    The entries ``raw``, ``split``, ``mapping`` and ``RELEASE_v*`` of :obj:`folder` that
    exist become symbolic links to their resolved targets; anything else (such as a
    ``processed`` folder) is not mirrored, and a link already present is kept. The
    mirror lives under ``cache/ogb/<hash>/<folder name>`` for every kind of dataset, the
    hash taken of :obj:`folder`'s resolved path and of the mirrored files' names, sizes,
    modification and change times and inodes, so two data roots never share processed
    files and changed raw files get new ones (a copied or touched raw folder is processed
    again).

    Args:
        folder (Path): the dataset's folder under the data root.
        cache (Path): the writable cache dir.

    Returns:
        Path: the mirror folder (created if missing); its parent is the root to give
        the loader, its name the dataset's folder name.

    Raises:
        GkdError: the cache dir cannot be written.
    """
    entries = [entry for entry in sorted(folder.iterdir())
               if entry.name in _MIRRORED or entry.name.startswith("RELEASE_v")]
    digest = hashlib.sha1(str(folder.resolve()).encode())
    for path in (p for entry in entries for p in [entry, *sorted(entry.resolve().rglob("*"))]):
        if path.is_file():
            stat = path.stat()
            # the change time too: a same-size edit with its mtime restored still moves it
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:"
                          f"{stat.st_ino};".encode())
    mirror = cache / "ogb" / digest.hexdigest()[:12] / folder.name
    try:
        mirror.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            link = mirror / entry.name
            if not link.is_symlink():
                try:
                    link.symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
                except FileExistsError:  # another process made it first
                    pass
    except OSError as error:
        raise GkdError(f"cannot use the cache dir '{cache}' ({error}); set GKD_CACHE_DIR or "
                       f"pass another cache folder") from None
    return mirror


@contextmanager
def processed_files_checked(mirror: Path, name: str) -> Iterator[None]:
    r"""Guards the construction of a dataset whose processed files live in
    ``mirror/processed``: on torch 2.4 and later every ``torch.load`` within reads
    weights-only (ogb's own calls rely on torch's default), PyG's fallback from a
    weights-only load to a full unpickling (which would run any code a tampered file
    holds) becomes an error, and a processed file that cannot be read (truncated,
    corrupt, tampered) raises a
    :class:`~gkd.errors.GkdError` naming the folder to delete.

    Args:
        mirror (Path): the dataset's mirror folder (:func:`mirror_folder`).
        name (str): the dataset name, for the message.
    """
    processed = mirror / "processed"
    cached = processed.is_dir() and any(processed.iterdir())
    load = torch.load

    def weights_only_load(*args: Any, **kwargs: Any) -> Any:
        # ogb reads its processed files with torch.load's default, a full unpickling
        # before torch 2.6 (or with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD set)
        return load(*args, **{**kwargs, "weights_only": True})

    # before torch 2.4 PyG's classes cannot be allow-listed: ogb's files need full unpickling
    forced = hasattr(torch.serialization, "add_safe_globals")
    with warnings.catch_warnings(), mock.patch.object(torch, "load",
                                                      weights_only_load if forced else load):
        warnings.filterwarnings("error", message="Weights only load failed")
        try:
            # PyG reads these two with a full unpickling, before any check of its own
            for extra in ("pre_transform.pt", "pre_filter.pt"):
                if (processed / extra).is_file():
                    load(processed / extra, weights_only=True)
            yield
        except _UNREADABLE as error:
            if not cached:
                raise
            reason = str(error).strip().split(". ")[0] or type(error).__name__
            raise GkdError(f"the processed files of '{name}' in {processed} cannot be read "
                           f"weights-only ({reason}); delete that folder to rebuild them from "
                           f"the raw files") from None


class _Prompted(Exception):
    r"""Raised by the detached stdin when a loader asks a question."""


class _NoAnswers(io.TextIOBase):  # a stdin whose reads (input() included) raise
    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        raise _Prompted

    def read(self, size: int | None = -1, /) -> str:
        raise _Prompted


@contextmanager
def built_in_cache(folder: Path, cache: Path, name: str) -> Iterator[Path]:
    r"""The mirror of :obj:`folder` in the cache dir (:func:`mirror_folder`), for a block
    that constructs a dataset on it: the block holds a lock on the mirror (processes
    that open the same dataset take turns, so none reads processed files another is
    still writing) and runs under :func:`processed_files_checked`. A block that returns
    marks the ``processed`` folder complete (:data:`BUILT_MARKER`); one left unmarked by
    an interrupted or failed build is deleted first, so it is rebuilt from the raw files
    rather than read half-written. A cache dir where the mirror or its lock cannot be
    made raises a :class:`~gkd.errors.GkdError` naming it.

    Args:
        folder (Path): the dataset's folder under the data root.
        cache (Path): the writable cache dir.
        name (str): the dataset name, for messages.

    Yields:
        Path: the mirror folder.
    """
    with ExitStack() as stack:
        try:  # a cache that cannot be written is the cache's problem, not the raw files'
            mirror = mirror_folder(folder, cache)
            stack.enter_context(file_lock(mirror.parent / f".{mirror.name}.lock"))
            processed, complete = mirror / "processed", mirror / "processed" / BUILT_MARKER
            if processed.is_dir() and not complete.is_file():  # an interrupted or failed build
                shutil.rmtree(processed)
        except OSError as error:
            raise GkdError(f"cannot prepare the cache of '{name}' in '{cache}' "
                           f"({type(error).__name__}: {first_line(error)}); point "
                           f"GKD_CACHE_DIR at a writable folder") from None
        allow_pyg_storage_globals()
        stack.enter_context(processed_files_checked(mirror, name))
        yield mirror
        if processed.is_dir() and not complete.is_file():
            write_bytes(complete, b"")


@contextmanager
def _stdin_detached(name: str) -> Iterator[None]:
    stdin = sys.stdin
    sys.stdin = _NoAnswers()
    try:
        yield
    except _Prompted:  # other EOFErrors, e.g. of a truncated file, are not questions
        raise GkdError(f"ogb asked an interactive question while opening '{name}': its "
                       f"RELEASE_v*.txt marker or raw files are missing or outdated") from None
    finally:
        sys.stdin = stdin


def split_of(dataset: Any) -> dict[str, torch.Tensor]:
    r"""The official split of an OGB dataset, ``{"train", "valid", "test"}`` index tensors,
    checked. Call it inside :func:`open_ogb_dataset`'s :obj:`make`: ogb may read it from
    a ``split_dict.pt`` with ``torch.load``, which is then weights-only.

    Raises:
        GkdError: the split cannot be read, or a part is missing or not a 1-D integer
            tensor; the message names the split folder.
    """
    folder = (Path(dataset.root) / "split").resolve()
    try:
        split = dataset.get_idx_split()
    except Exception as error:  # a tampered or foreign split_dict.pt, damaged CSVs
        raise GkdError(f"the official split in '{folder}' cannot be read "
                       f"({type(error).__name__}: {first_line(error)})") from None
    for part in ("train", "valid", "test"):
        index = split.get(part) if isinstance(split, dict) else None
        if not (isinstance(index, torch.Tensor) and index.dim() == 1
                and not index.is_floating_point() and index.dtype != torch.bool):
            raise GkdError(f"the official split in '{folder}' has no '{part}' index")
    return split


def open_ogb_dataset(make: Callable[[str], Any], name: str, folder: Path, cache: Path) -> Any:
    r"""Constructs an OGB dataset whose files sit in :obj:`folder`.

    Args:
        make (callable): builds the dataset from a root directory, for example
            ``lambda root: PygNodePropPredDataset(name, root=root)``.
        name (str): the OGB dataset name, used in error messages.
        folder (Path): the dataset's folder under the (read-only) data root.
        cache (Path): a writable cache directory for processed files.

    Returns:
        Any: what :obj:`make` returns, built on the mirror (:func:`mirror_folder`).

    Raises:
        GkdError: ogb asked an interactive question (its ``RELEASE_v*.txt`` marker or
            raw files are missing or outdated), or a processed file cannot be read
            weights-only (:func:`processed_files_checked`).
    """
    with built_in_cache(folder, cache, name) as mirror, _stdin_detached(name):
        return make(str(mirror.parent))
