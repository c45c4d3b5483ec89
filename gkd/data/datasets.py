"""Benchmark datasets by name, read from a local data root.

The data root (argument > ``GKD_DATA_ROOT`` > ``./datasets``) is only read. Anything
a loader must process is written under the cache dir (argument > ``GKD_CACHE_DIR`` >
``$XDG_CACHE_HOME/gkd`` > ``~/.cache/gkd``). Every loader returns a homogeneous
:class:`~torch_geometric.data.Data` with float features ``x``, class indices ``y``
of shape ``[N]`` and an undirected, unweighted ``edge_index`` without self-loops;
datasets with an official split also carry ``train_mask``, ``val_mask`` and
``test_mask``. Planetoid CiteSeer also carries ``placeholder_mask``: the 15 featureless
nodes PyG adds for gaps in its test indices, labelled 0 without data, which the
``random`` protocol never draws into a split.
"""
from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from gkd.data.ogb import open_ogb_dataset, split_of
from gkd.data.synthetic import SYNTHETIC_PREFIX, SYNTHETIC_PRESETS, synthetic_dataset
from gkd.errors import DatasetNotFoundError, GkdError, first_line

DATA_ROOT_ENV = "GKD_DATA_ROOT"
CACHE_DIR_ENV = "GKD_CACHE_DIR"


def data_root(root: str | os.PathLike | None = None) -> Path:
    r"""The data root: :obj:`root` if given, else ``$GKD_DATA_ROOT``, else ``./datasets``,
    with ``~`` expanded (it need not exist).

    Args:
        root (str or os.PathLike, optional): an explicit data root. (default: ``None``)

    Returns:
        Path: the data root.

    Raises:
        GkdError: :obj:`root` is an empty path (which would silently mean the default).
    """
    if root is not None and not str(root):
        raise GkdError("the data root is an empty path: name a folder, or leave it out for "
                       f"${DATA_ROOT_ENV} (else ./datasets)")
    return Path(root or os.environ.get(DATA_ROOT_ENV) or "datasets").expanduser()


def dataset_folder(root: str | os.PathLike | None, folder: str, files: tuple[str, ...],
                   description: str, source: str) -> Path:
    r"""The folder of a dataset under the data root, once every file it needs is there.

    Args:
        root (str or os.PathLike or None): the data root, ``None`` for the default (see
            :func:`data_root`).
        folder (str): the dataset's folder under it.
        files (tuple[str, ...]): the files, relative to :obj:`folder`, that must exist.
        description (str): what the message calls the dataset, e.g. ``"dataset 'cora'"``.
        source (str): where a user gets the files, for the message.

    Returns:
        Path: the dataset's folder.

    Raises:
        DatasetNotFoundError: the data root or a file is missing; the message names the
            folder, the missing files and :obj:`source`, where to get them.
    """
    base = data_root(root)
    if not base.is_dir():
        problem = "is not a folder" if base.exists() else "does not exist"
        raise DatasetNotFoundError(
            f"data root '{base}' {problem}; pass --root DIR or set {DATA_ROOT_ENV}")
    path = base / folder
    missing = missing_files(root, folder, files)
    if missing:
        raise DatasetNotFoundError(f"{description} not found: missing {', '.join(missing)} in "
                                   f"'{path}'; get {source}")
    return path


def missing_files(root: str | os.PathLike | None, folder: str,
                  files: tuple[str, ...]) -> list[str]:
    r"""The files of a dataset that are not under the data root, without reading any.

    Args:
        root (str or os.PathLike or None): the data root, ``None`` for the default (see
            :func:`data_root`).
        folder (str): the dataset's folder under it.
        files (tuple[str, ...]): the files, relative to :obj:`folder`, that it needs.

    Returns:
        list[str]: the missing ones, in the order of :obj:`files` (empty: all present).
    """
    path = data_root(root) / folder
    return [f for f in files if not (path / f).is_file()]


# What numpy, pickle, zipfile and the PyG/OGB readers raise on a truncated, corrupt or
# foreign file (a pickled object of another type, say).
_UNREADABLE = (OSError, ValueError, KeyError, IndexError, EOFError, RuntimeError,
               TypeError, AttributeError, AssertionError, zipfile.BadZipFile,
               pickle.UnpicklingError)


@contextmanager
def files_read(description: str, folder: Path, source: str) -> Iterator[None]:
    r"""Turns what a reader raises on a file it cannot read into a
    :class:`~gkd.errors.GkdError` that names the dataset, its folder and :obj:`source`,
    where to get the files again (a :class:`~gkd.errors.GkdError` passes unchanged).

    Args:
        description (str): what the message calls the dataset, e.g. ``"dataset 'cora'"``.
        folder (Path): the dataset's folder.
        source (str): where a user gets the files, for the message.
    """
    try:
        yield
    except GkdError:
        raise
    except _UNREADABLE as error:
        raise GkdError(f"{description}: cannot read the files in '{folder}' "
                       f"({type(error).__name__}: {first_line(error)}); one may be truncated, "
                       f"corrupt or not in the expected layout; get {source}") from error


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    r"""The writable cache dir: :obj:`path`, else ``$GKD_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/gkd``, else ``~/.cache/gkd``, with ``~`` expanded (it is not created
    here).

    Args:
        path (str or os.PathLike, optional): an explicit cache dir. (default: ``None``)

    Returns:
        Path: the cache dir.
    """
    if path or os.environ.get(CACHE_DIR_ENV):
        return Path(path or os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gkd"


# --- readers -----------------------------------------------------------------------


def _clean(x: Tensor, edge_index: Tensor, y: Tensor, **masks: Tensor) -> Data:
    edge_index, _ = remove_self_loops(edge_index)
    edge_index = to_undirected(edge_index, num_nodes=x.size(0))
    return Data(x=x.float(), edge_index=edge_index, y=y.view(-1).long(), **masks)


def read_npz_graph(path: str | os.PathLike) -> Data:
    r"""Reads a graph in the gnn-benchmark npz layout (CPF, GLNN, Amazon, Coauthor).

    Unlike :func:`torch_geometric.io.read_npz`, the node features are kept raw (the
    Coauthor files hold counts, which PyG binarises); the graph is made undirected and
    unweighted and its self-loops are removed, as in GLNN's ``standardize``.

    Args:
        path (str or os.PathLike): the ``.npz`` file, with the adjacency as CSR arrays
            ``adj_*``, the features either as CSR arrays ``attr_*`` (repeated entries are
            summed) or as a dense ``attr_matrix``, and ``labels``.

    Returns:
        Data: float features ``x`` :math:`(N, F)`, class indices ``y`` :math:`(N)` and
        ``edge_index``, without masks.

    Raises:
        GkdError: ``labels`` is not one label per node (e.g. a multi-label matrix), or
            the features do not have one row per node.
    """
    with np.load(path, allow_pickle=False) as f:
        n = int(f["adj_shape"][0])
        indptr = torch.from_numpy(f["adj_indptr"]).long()
        row = torch.repeat_interleave(torch.arange(n), indptr.diff())
        col = torch.from_numpy(f["adj_indices"]).long()
        if "attr_data" in f:
            x = torch.zeros(tuple(int(s) for s in f["attr_shape"]))
            attr_indptr = torch.from_numpy(f["attr_indptr"]).long()
            attr_row = torch.repeat_interleave(torch.arange(x.size(0)), attr_indptr.diff())
            attr_col = torch.from_numpy(f["attr_indices"]).long()
            x.index_put_((attr_row, attr_col), torch.from_numpy(f["attr_data"]).float(),
                         accumulate=True)
        else:
            x = torch.from_numpy(np.asarray(f["attr_matrix"], dtype=np.float32))
        labels = np.asarray(f["labels"])
    if labels.shape != (n,) or x.size(0) != n:
        raise GkdError(f"{path}: expected one feature row and one label per node of the "
                       f"{n} in the adjacency, got features {tuple(x.shape)} and labels "
                       f"{labels.shape}")
    return _clean(x, torch.stack([row, col]), torch.from_numpy(labels))


# The globals that Planetoid's pickled ind.* files name (numpy arrays, scipy CSR matrices,
# the graph's dict of lists), as pickled by Python 2 and by later numpy and scipy.
_PLANETOID_GLOBALS = frozenset(
    [("__builtin__", "list"), ("builtins", "list"), ("collections", "defaultdict"),
     ("numpy", "dtype"), ("numpy", "ndarray")]
    + [(f"numpy.{core}.multiarray", name) for core in ("core", "_core")
       for name in ("_reconstruct", "scalar")]
    + [(f"scipy.sparse.{module}", "csr_matrix") for module in ("csr", "_csr")])


class _PlanetoidUnpickler(pickle.Unpickler):
    r"""Unpickles the data of Planetoid's ``ind.*`` files and nothing else: PyG reads them
    with a full :func:`pickle.load`, which would run whatever a tampered file names."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PLANETOID_GLOBALS:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: not a Planetoid "
                                         f"data type")
        return super().find_class(module, name)


class _RestrictedPickle:
    r"""Stands in for the :mod:`pickle` module of PyG's Planetoid reader."""

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return _PlanetoidUnpickler(file, **kwargs).load()


def _read_planetoid(folder: Path, prefix: str) -> Data:
    import torch_geometric.io.planetoid as planetoid_io
    from torch_geometric.io import read_planetoid_data

    with mock.patch.object(planetoid_io, "pickle", _RestrictedPickle):
        data = read_planetoid_data(str(folder), prefix)
    graph = _clean(data.x, data.edge_index, data.y, train_mask=data.train_mask,
                   val_mask=data.val_mask, test_mask=data.test_mask)
    # CiteSeer's test indices have gaps; PyG fills them with featureless nodes labelled 0,
    # which are no data: kept in the graph, never drawn into a split
    test = data.test_mask.nonzero().view(-1)
    placeholder = torch.zeros_like(data.test_mask)
    placeholder[int(test.min()):] = True
    placeholder &= ~data.test_mask
    if bool(placeholder.any()):
        graph.placeholder_mask = placeholder
    return graph


def _read_ogbn(folder: Path, name: str, cache: Path) -> Data:
    def make(root: str) -> Any:
        from ogb.nodeproppred import PygNodePropPredDataset

        dataset = PygNodePropPredDataset(name, root=root)
        return dataset[0], split_of(dataset)

    data, split = open_ogb_dataset(make, name, folder, cache)
    masks = {}
    for key, ogb_key in (("train_mask", "train"), ("val_mask", "valid"), ("test_mask", "test")):
        masks[key] = torch.zeros(data.num_nodes, dtype=torch.bool)
        masks[key][split[ogb_key]] = True
    return _clean(data.x, data.edge_index, data.y, **masks)


# --- registry ----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetSpec:
    r"""Where a dataset lives under the data root and how to read it.

    Args:
        name (str): the public name, e.g. ``"cora"`` or ``"ogbn-arxiv"``.
        folder (str): the folder under the data root that holds the files.
        files (tuple[str, ...]): the files (relative to :obj:`folder`) that must exist.
        read (callable): ``read(folder, cache_dir) -> Data``.
        source (str): where a user gets the files.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    read: Callable[[Path, Path], Data]
    source: str


# datasets/README.md is not installed with the package
DATA_GUIDE = "see datasets/README.md in the gkd repository"
_PLANETOID_SOURCE = ("the Planetoid files ind.{p}.* from github.com/kimiyoung/planetoid (data/); "
                     + DATA_GUIDE)
_NPZ_SOURCE = "{f} from github.com/shchur/gnn-benchmark (data/npz/); " + DATA_GUIDE
_OGB_SOURCE = ("snap.stanford.edu/ogb/data/nodeproppred/{z}.zip, unzipped and renamed to "
               "ogb/{d}/; " + DATA_GUIDE)


def _planetoid(name: str, folder: str) -> DatasetSpec:
    prefix = folder.lower()
    files = tuple(f"ind.{prefix}.{s}" for s in ("x", "tx", "allx", "y", "ty", "ally", "graph",
                                                "test.index"))
    return DatasetSpec(name, f"{folder}/raw", files, lambda d, _: _read_planetoid(d, prefix),
                       _PLANETOID_SOURCE.format(p=prefix))


def _npz(name: str, folder: str, file: str) -> DatasetSpec:
    return DatasetSpec(name, folder, (file,), lambda d, _: read_npz_graph(d / file),
                       _NPZ_SOURCE.format(f=file))


def _ogbn(name: str, split: str, extra: tuple[str, ...] = ()) -> DatasetSpec:
    raw = ("edge", "node-feat", "node-label", "num-node-list", "num-edge-list") + extra
    files = (("RELEASE_v1.txt",) + tuple(f"raw/{r}.csv.gz" for r in raw)
             + tuple(f"split/{split}/{s}.csv.gz" for s in ("train", "valid", "test")))
    folder = name.replace("-", "_")
    return DatasetSpec(name, f"ogb/{folder}", files, lambda d, c: _read_ogbn(d, name, c),
                       _OGB_SOURCE.format(z=name.split("-")[1], d=folder))


DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    _planetoid("cora", "Cora"),
    _planetoid("citeseer", "CiteSeer"),
    _planetoid("pubmed", "PubMed"),
    _npz("cora-npz", "npz", "cora.npz"),
    _npz("citeseer-npz", "npz", "citeseer.npz"),
    _npz("a-computer", "Amazon/Computers/raw", "amazon_electronics_computers.npz"),
    _npz("a-photo", "Amazon/Photo/raw", "amazon_electronics_photo.npz"),
    _npz("coauthor-cs", "Coauthor/CS/raw", "ms_academic_cs.npz"),
    _npz("coauthor-physics", "Coauthor/Physics/raw", "ms_academic_phy.npz"),
    _ogbn("ogbn-arxiv", "time", extra=("node_year",)),
    _ogbn("ogbn-products", "sales_ranking"),
)}


def dataset_spec(name: str) -> DatasetSpec:
    r"""The registry entry of :obj:`name` in :data:`DATASETS` (case-insensitive).

    Args:
        name (str): a dataset name (not ``synthetic:NAME``).

    Returns:
        DatasetSpec: the entry.

    Raises:
        GkdError: :obj:`name` is unknown; the message lists the known names.
    """
    try:
        return DATASETS[name.lower()]
    except KeyError:
        raise GkdError(f"unknown dataset '{name}'; known datasets: {', '.join(DATASETS)}, "
                       f"or synthetic:NAME ({', '.join(SYNTHETIC_PRESETS)})") from None


def located_dataset(name: str, root: str | os.PathLike | None = None
                    ) -> tuple[DatasetSpec, Path]:
    r"""The registry entry of :obj:`name` and its folder under the data root, once every
    file it needs is there (no file is read).

    Args:
        name (str): a name from :data:`DATASETS` (not ``synthetic:NAME``).
        root (str, optional): the data root. (default: ``$GKD_DATA_ROOT`` or
            ``./datasets``)

    Returns:
        tuple[DatasetSpec, Path]: the entry and the folder.

    Raises:
        GkdError: :obj:`name` is not a known dataset.
        DatasetNotFoundError: the data root or one of the dataset's files is missing.
    """
    spec = dataset_spec(name)
    return spec, dataset_folder(root, spec.folder, spec.files, f"dataset '{spec.name}'",
                                spec.source)


def load_dataset(name: str, root: str | os.PathLike | None = None,
                 cache: str | os.PathLike | None = None) -> Data:
    r"""Loads the dataset :obj:`name` from the data root.

    Args:
        name (str): a name from :data:`DATASETS`, or ``synthetic:NAME`` for a generated
            graph (:func:`~gkd.data.synthetic.synthetic_dataset`; needs no data root).
        root (str, optional): the data root. (default: ``$GKD_DATA_ROOT`` or
            ``./datasets``)
        cache (str, optional): the writable cache dir. (default: ``$GKD_CACHE_DIR`` or
            the user cache folder)

    Returns:
        Data: the graph, as described in :mod:`gkd.data.datasets`.

    Raises:
        GkdError: :obj:`name` is not a known dataset (the message lists the known
            names), or a ``synthetic:`` name is malformed.
        DatasetNotFoundError: the data root or one of the dataset's files is missing;
            the message names the folder, the files and where to get them.
        GkdError: a file cannot be read (truncated, corrupt or another layout).
    """
    if name.lower().startswith(SYNTHETIC_PREFIX):
        return synthetic_dataset(name.lower())
    spec, folder = located_dataset(name, root)
    with files_read(f"dataset '{spec.name}'", folder, spec.source):
        return spec.read(folder, cache_dir(cache))
