"""Atomic writes and safe loads: nothing a user saved is ever half-written."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import torch

from gkd.errors import GkdError, first_line

T = TypeVar("T")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def writable_folder(path: str | os.PathLike) -> Path:
    r"""The nearest existing folder above the file :obj:`path` (where its missing folders
    would be created), once nothing stands in the way of writing it.

    Args:
        path (str or os.PathLike): a file to be written.

    Returns:
        Path: that folder.

    Raises:
        GkdError: :obj:`path` is a folder, or a file (or a broken link) stands where one
            of its folders should be.
    """
    path = Path(path)
    if path.is_dir():
        raise GkdError(f"cannot write '{path}': it is a folder; give a file path")
    ancestor = next(p for p in path.absolute().parents if p.exists() or p.is_symlink())
    if not ancestor.is_dir():
        raise GkdError(f"cannot write '{path}': '{ancestor}' is not a folder")
    return ancestor


def _prepare_file(path: str | os.PathLike) -> Path:
    r""":obj:`path` as a :class:`~pathlib.Path` whose folder exists (:func:`writable_folder`;
    a folder that cannot be created raises its :class:`OSError`)."""
    writable_folder(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    path = _prepare_file(path)
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


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    r"""Writes :obj:`data` to :obj:`path`, atomically.

    The bytes go to a temporary file beside :obj:`path`, are flushed to disk and then
    renamed over it, so a reader sees the old file or the new one, never a part. Missing
    parent folders are created; the file gets the usual mode (``0o666`` less the umask).

    Args:
        path (str or os.PathLike): the file to write.
        data (bytes): its new content.

    Returns:
        Path: :obj:`path`.

    Raises:
        GkdError: :obj:`path` is a folder, or a file stands where one of its folders
            should be (see :func:`writable_folder`).
    """
    return _write_atomic(path, lambda f: f.write(data))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    r"""Writes :obj:`obj` as indented JSON to :obj:`path`, atomically (see
    :func:`write_bytes`).

    Args:
        path (str or os.PathLike): the file to write.
        obj (Any): a JSON-serialisable value, written with an indent of 2, keys in their
            given order, and a final newline.

    Returns:
        Path: :obj:`path`.
    """
    return write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def save_torch(path: str | os.PathLike, obj: Any) -> Path:
    r"""Saves tensors (and plain Python containers of them) with :func:`torch.save`,
    atomically (see :func:`write_bytes`).

    Args:
        path (str or os.PathLike): the file to write.
        obj (Any): what to save; keep to tensors, numbers, strings and containers of them
            so that :func:`load_torch` can read it back with ``weights_only=True``.

    Returns:
        Path: :obj:`path`.
    """
    return _write_atomic(path, lambda f: torch.save(obj, f))


def load_torch(path: str | os.PathLike) -> Any:
    r"""Loads a file written by :func:`save_torch` with ``weights_only=True``, its tensors
    mapped to the CPU.

    Args:
        path (str or os.PathLike): the file to read.

    Returns:
        Any: the saved object. :func:`torch.load`'s errors (a missing file, a corrupt or
        unsafe one) pass through unchanged.
    """
    return torch.load(path, map_location="cpu", weights_only=True)


def meta_text(meta: dict[str, Any], kind: str) -> str:
    r"""The JSON text of :obj:`meta`, the description a gkd file of :obj:`kind` carries
    beside its tensors (read back by :func:`load_artifact`).

    Raises:
        GkdError: :obj:`meta` holds values JSON cannot represent.
    """
    try:
        return json.dumps(meta)
    except (TypeError, ValueError) as error:
        raise GkdError(f"{kind} meta must hold JSON values (numbers, strings, lists, dicts) "
                       f"to be saved: {error}") from None


def load_artifact(path: str | os.PathLike, kind: str, format: int) -> dict[str, Any]:
    r"""Reads a gkd file written by :func:`save_torch` as a dict whose ``"kind"`` is
    :obj:`kind` (e.g. ``"knowledge"``) and whose ``"format"`` is :obj:`format`, and decodes
    its ``"meta"`` entry, a JSON text, in place.

    Args:
        path (str or os.PathLike): the file to read.
        kind (str): what the file holds, for the error messages.
        format (int): the format version the reader understands.

    Returns:
        dict: the saved dict, ``"meta"`` a dict.

    Raises:
        GkdError: the file does not exist, cannot be read (corrupt, foreign, or holding
            objects ``weights_only`` refuses), is not a dict of that kind and format, or
            its meta is not a JSON object.
    """
    if not Path(path).is_file():
        raise GkdError(f"{kind} file '{path}' does not exist")
    try:
        obj = load_torch(path)
    except Exception as error:  # corrupt or foreign file
        raise GkdError(f"'{path}' is not a readable {kind} file "
                       f"({type(error).__name__}: {first_line(error)})") from None
    # knowledge files written before the kind was recorded have none
    if not isinstance(obj, dict) or obj.get("kind", "knowledge") != kind:
        raise GkdError(f"'{path}' is not a gkd {kind} file")
    if obj.get("format") != format:
        raise GkdError(f"'{path}' is not a gkd {kind} file of format {format}")
    try:
        obj["meta"] = json.loads(obj["meta"])
    except (KeyError, TypeError, ValueError) as error:
        raise GkdError(f"'{path}' is a damaged {kind} file ({type(error).__name__}: "
                       f"{error})") from None
    if not isinstance(obj["meta"], dict):
        raise GkdError(f"'{path}' is a damaged {kind} file: its meta is not a JSON object")
    return obj


@contextlib.contextmanager
def file_lock(path: str | os.PathLike, *, wait: bool = True) -> Iterator[bool]:
    r"""Holds an exclusive advisory lock on the file :obj:`path` (created if missing)
    for the block, so that processes sharing a cache or a results folder take turns.

    Args:
        path (str or os.PathLike): the lock file.
        wait (bool, optional): wait while another process holds the lock; with
            ``False`` the block runs at once and receives ``False`` if the lock is held
            elsewhere. (default: ``True``)

    Yields:
        Whether the lock is held (always ``True`` where the system has no ``fcntl``:
        there is no lock there).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield True
        return
    path = _prepare_file(path)
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_cached(path: str | os.PathLike, load: Callable[[], T]) -> T | None:
    r"""What :obj:`load` returns for the cache entry :obj:`path`, or ``None`` with a
    warning that names the file when it fails (a truncated, corrupt or tampered file, the
    weights of a model built differently, damaged metadata): the caller then trains the
    model again and replaces the entry.

    Args:
        path (str or os.PathLike): the cached file, for the warning.
        load (callable): reads the entry and checks it.

    Returns:
        What :obj:`load` returns, or ``None``.
    """
    try:
        return load()
    except Exception as error:
        warnings.warn(f"the cached model '{path}' cannot be loaded ({first_line(error)}); "
                      f"training it again to replace it", stacklevel=3)
        return None


def cache_lock(entry: str | os.PathLike, enabled: bool = True
               ) -> contextlib.AbstractContextManager[bool]:
    r"""The lock of the cache entry :obj:`entry` (the file beside it with suffix
    ``.lock``): a process that looks the entry up and, if it is missing, trains and stores
    it under this lock makes a concurrent process wanting the same entry wait, then load it
    instead of training it again. A no-op when not :obj:`enabled` (caching is off).

    Args:
        entry (str or os.PathLike): the cache file; its suffix is replaced by ``.lock``.
        enabled (bool, optional): take the lock at all. (default: ``True``)

    Returns:
        A context manager that waits for the lock (:func:`file_lock`) and yields ``True``.
    """
    if not enabled:
        return contextlib.nullcontext(True)
    return file_lock(Path(entry).with_suffix(".lock"))


def append_jsonl(path: str | os.PathLike, record: dict[str, Any]) -> None:
    r"""Appends :obj:`record` to :obj:`path` as one JSON line, with a single ``write`` to a
    file opened for appending, flushed to disk: a reader sees the whole line or, after a
    crash mid-write, a torn last line that :func:`read_jsonl` discards.

    Args:
        path (str or os.PathLike): the JSON-lines file, created (with its folders) if missing.
        record (dict): a JSON-serialisable record.

    Raises:
        OSError: the system wrote only part of the line.
    """
    line = (json.dumps(record, sort_keys=False) + "\n").encode()
    path = _prepare_file(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        written = os.write(fd, line)
        if written != len(line):
            raise OSError(f"short write to {path}: {written} of {len(line)} bytes")
        os.fsync(fd)
    finally:
        os.close(fd)


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)  # a torn record never parses
    except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
        return False


def read_jsonl(path: str | os.PathLike, repair: bool = False) -> list[dict[str, Any]]:
    r"""The records of a JSON-lines file (none when it does not exist). A last line without
    its newline is kept when it is a whole JSON record (an edited file); otherwise it is
    the remnant of an interrupted append: it is ignored, and with :obj:`repair` cut from
    the file so that the next append starts on a fresh line. Blank lines are skipped.

    Args:
        path (str or os.PathLike): the JSON-lines file.
        repair (bool, optional): end a whole last record with its newline, and truncate a
            torn one from the file. (default: ``False``)

    Returns:
        list[dict]: the records, in file order.

    Raises:
        ValueError: a complete line is not UTF-8 JSON; the message names the file and
            line.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    complete = data[:data.rfind(b"\n") + 1]
    if len(complete) < len(data) and _is_record(data[len(complete):]):
        complete = data + b"\n"
    if repair and complete != data:
        with open(path, "r+b") as f:
            if len(complete) > len(data):
                f.seek(len(data))
                f.write(b"\n")
            f.truncate(len(complete))
            os.fsync(f.fileno())
    records = []
    # split at newlines only: str.splitlines also splits at U+2028, which JSON strings hold
    for number, line in enumerate(complete.split(b"\n")[:-1], start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line.decode()))
        except UnicodeDecodeError:
            raise ValueError(f"{path}, line {number}: not UTF-8 text") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, line {number}: not a JSON record ({error.msg})") from None
    return records
