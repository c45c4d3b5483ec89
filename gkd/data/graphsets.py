"""Graph-classification tasks: a set of graphs with one label each, a split and a metric.

TU datasets (``mutag``, ``proteins``, ``nci1``) get a stratified 80/10/10 split with a
fixed split seed, or the Mirage reference's own slicing (``split="mirage"``); OGB molecule
datasets (``ogbg-molhiv``, ``ogbg-molbace``) keep their
official scaffold split and are scored with OGB's ``Evaluator``. Binary tasks are scored
by ROC-AUC (Mirage's metric, accuracy is logged beside it), multi-class ones by accuracy.
As for node datasets, the data root is only read: processing happens in the cache dir.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Batch, Data, InMemoryDataset

from gkd.data.datasets import DATA_GUIDE, cache_dir, dataset_folder, files_read
from gkd.data.ogb import built_in_cache, open_ogb_dataset, split_of
from gkd.data.splits import check_fractions, check_seed, check_split_index
from gkd.errors import GkdError
from gkd.ops.checks import check_edge_index


@dataclass(frozen=True)
class GraphSetSpec:
    r"""Where a graph-classification dataset lives under the data root.

    Args:
        name (str): the public name, e.g. ``"mutag"`` or ``"ogbg-molhiv"``.
        folder (str): its folder under the data root.
        files (tuple[str, ...]): files (relative to :obj:`folder`) that must exist.
        source (str): where a user gets the files.
    """

    name: str
    folder: str
    files: tuple[str, ...]
    source: str

    @property
    def is_ogb(self) -> bool:
        r"""Whether this is an OGB graph dataset (its name starts with ``ogbg-``)."""
        return self.name.startswith("ogbg-")


def _tu(name: str, tu_name: str, extra: tuple[str, ...] = ()) -> GraphSetSpec:
    files = tuple(f"raw/{tu_name}_{part}.txt" for part in
                  ("A", "graph_indicator", "graph_labels", "node_labels") + extra)
    return GraphSetSpec(name, f"TU/{tu_name}", files,
                        f"{tu_name}.zip from chrsmrrs.github.io/datasets (TUDataset), unzipped "
                        f"into TU/{tu_name}/raw/; {DATA_GUIDE}")


def _ogbg(name: str) -> GraphSetSpec:
    raw = ("edge", "edge-feat", "node-feat", "graph-label", "num-node-list", "num-edge-list")
    files = (("RELEASE_v1.txt",) + tuple(f"raw/{r}.csv.gz" for r in raw)
             + tuple(f"split/scaffold/{s}.csv.gz" for s in ("train", "valid", "test")))
    folder = name.replace("-", "_")
    return GraphSetSpec(name, f"ogb/{folder}", files,
                        f"snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/"
                        f"{name.split('-')[1].removeprefix('mol')}.zip, unzipped and renamed "
                        f"to ogb/{folder}/")


GRAPH_DATASETS: dict[str, GraphSetSpec] = {spec.name: spec for spec in (
    _tu("mutag", "MUTAG", extra=("edge_labels",)),
    _tu("proteins", "PROTEINS"),
    _tu("nci1", "NCI1"),
    _ogbg("ogbg-molhiv"),
    _ogbg("ogbg-molbace"),
)}


class GraphSetTask:
    r"""A graph-classification task: graphs, one class per graph, and a split.

    All graphs are also held collated in one ``Data`` (:attr:`data`, with a ``batch``
    vector and node offsets ``ptr``), so vectorised code (computation-tree hashing) sees
    every node at once; :meth:`graphs` hands out the graphs for training loaders. Keep the
    graphs on the CPU: tree hashing, mining and graph-level training run there.

    Args:
        graphs (Sequence[Data]): the graphs (a PyG dataset or a list), each with ``x``,
            ``edge_index``, optional ``edge_attr`` and a class index ``y``.
        train_idx (Tensor): training graphs (a list or a numpy array too).
        val_idx (Tensor): validation graphs.
        test_idx (Tensor): test graphs.
        evaluator (str, optional): an OGB graph dataset name whose ``Evaluator`` scores
            ROC-AUC; otherwise binary tasks are scored with scikit-learn's ROC-AUC.
            (default: ``None``)
        atom_features (bool, optional): ``x`` and ``edge_attr`` are OGB's integer atom and
            bond features (models embed them with ``AtomEncoder`` / ``BondEncoder``).
            (default: ``False``)
        info (dict, optional): descriptive fields kept in :attr:`info`. (default: ``None``)

    Raises:
        GkdError: no graphs, graphs without ``x``, ``y`` or ``edge_index``, attributes
            on some graphs only, ``x`` that is not float32 (integer with
            :obj:`atom_features`), not finite or without a column, ``edge_attr`` that is
            not float32 (without :obj:`atom_features`), not finite, without a column or not
            one row per edge, more than one label per graph, labels that are NaN,
            fractional or negative, fewer than two classes or a class id without graphs,
            or an empty, out-of-range or overlapping split.
    """

    def __init__(self, graphs: Sequence[Data], train_idx: Tensor, val_idx: Tensor,
                 test_idx: Tensor, *, evaluator: str | None = None, atom_features: bool = False,
                 info: dict | None = None) -> None:
        self.dataset = graphs
        self.data = _collate(graphs)
        _check_features(self.data, atom_features)
        self.num_graphs = self.data.ptr.numel() - 1
        self.y = _graph_labels(self.data.y, self.num_graphs)
        self.num_classes = int(self.y.max()) + 1
        self.index = {name: torch.as_tensor(idx) for name, idx in
                      (("train", train_idx), ("val", val_idx), ("test", test_idx))}
        _check_split(self.index, self.num_graphs)
        self.index = {name: idx.long() for name, idx in self.index.items()}
        self.evaluator, self.atom_features = evaluator, atom_features
        self.metric = "rocauc" if self.num_classes == 2 else "acc"
        self.info = dict(info or {}, metric=self.metric, **self.sizes())

    @property
    def num_features(self) -> int:
        r"""The node feature size: the columns of ``x``."""
        return self.data.x.size(1)

    @property
    def edge_dim(self) -> int | None:
        r"""The edge feature size: the columns of ``edge_attr`` (``1`` for a 1-D one), or
        ``None`` when the graphs have no edge features."""
        edge_attr = self.data.get("edge_attr")
        return None if edge_attr is None else (edge_attr.flatten(1).size(1)
                                               if edge_attr.dim() > 1 else 1)

    def sizes(self) -> dict[str, int]:
        r"""Graph counts of the dataset and of every split."""
        return {"num_graphs": self.num_graphs, **{k: v.numel() for k, v in self.index.items()}}

    def graphs(self, split: str | Tensor) -> list[Data]:
        r"""The graphs of a split or of an index tensor, each a shallow copy with a class
        index ``y`` of shape ``[1]``.

        Args:
            split (str or Tensor): ``"train"``, ``"val"``, ``"test"``, or graph ids.

        Returns:
            list[Data]: the graphs, in the order of the split's ids.
        """
        index = self.index[split] if isinstance(split, str) else split
        out = []
        for i in index.tolist():
            graph = copy.copy(self.dataset[i])
            graph.y = graph.y.view(-1)[:1].long()
            graph.edge_index = graph.edge_index.long()  # PyG's scatters take int64 only
            out.append(graph)
        return out

    def score(self, logits: Tensor, y: Tensor) -> dict[str, float]:
        r"""Metrics in percent of :obj:`logits` against classes :obj:`y`.

        Args:
            logits (Tensor): class scores :math:`(N, C)`.
            y (Tensor): class indices :math:`(N)`.

        Returns:
            dict[str, float]: ``{"rocauc", "acc"}`` for binary tasks (ROC-AUC of the
            class-1 log-odds ``logits[:, 1] - logits[:, 0]``, by OGB's ``Evaluator``
            when the task has one, else scikit-learn's), ``{"acc"}`` otherwise.

        Raises:
            GkdError: a binary task without an OGB evaluator scored on graphs of one
                class only (ROC-AUC is undefined).
        """
        logits, y = logits.detach().float().cpu(), y.view(-1).cpu()
        scores = {"acc": 100.0 * float((logits.argmax(-1) == y).float().mean())}
        if self.num_classes == 2:
            margin = (logits[:, 1] - logits[:, 0]).view(-1, 1)
            scores = {"rocauc": self._rocauc(y.view(-1, 1), margin), **scores}
        return scores

    def _rocauc(self, y_true: Tensor, y_pred: Tensor) -> float:
        if self.evaluator is not None:
            from ogb.graphproppred import Evaluator

            result = Evaluator(self.evaluator).eval({"y_true": y_true, "y_pred": y_pred})
            return 100.0 * result["rocauc"]
        from sklearn.metrics import roc_auc_score

        if y_true.unique().numel() < 2:
            raise GkdError("ROC-AUC needs both classes among the scored graphs")
        return 100.0 * float(roc_auc_score(y_true.numpy(), y_pred.numpy()))

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes().items())
        return f"GraphSetTask({self.info.get('dataset', 'graphs')}, {self.metric}, {sizes})"


def _collate(graphs: Sequence[Data]) -> Data:
    if len(graphs) == 0:
        raise GkdError("a graph-classification task needs at least one graph")
    if _is_stored_as_is(graphs):
        data = _from_in_memory(graphs)  # much faster than collating 40k Data objects again
    else:
        _check_graphs(graphs)
        batch = Batch.from_data_list(list(graphs))
        data = Data(**{key: batch[key] for key in batch.keys()})
        data.edge_index = data.edge_index.long()
    if data.get("x") is None:
        raise GkdError("the graphs need node features 'x' (add them, e.g. with the transform "
                       "torch_geometric.transforms.OneHotDegree)")
    return data


def _is_stored_as_is(graphs: Sequence[Data]) -> bool:
    r"""Whether :obj:`graphs` is a whole :class:`InMemoryDataset` whose stored, collated
    tensors are exactly its graphs: no subset, no transform, node features present."""
    return (isinstance(graphs, InMemoryDataset) and graphs._indices is None
            and graphs.transform is None and "x" in graphs.slices)


def _from_in_memory(dataset: InMemoryDataset) -> Data:
    data, slices = dataset._data, dataset.slices
    node_ptr, edge_ptr = slices["x"], slices["edge_index"]
    num_graphs = node_ptr.numel() - 1
    batch = torch.repeat_interleave(torch.arange(num_graphs), node_ptr.diff())
    edge_graph = torch.repeat_interleave(torch.arange(num_graphs), edge_ptr.diff())
    # InMemoryDataset keeps each graph's edge_index local; a Batch needs global node ids.
    local_ids = data.edge_index
    if local_ids.numel() and (bool((local_ids < 0).any())
                              or bool((local_ids >= node_ptr.diff()[edge_graph]).any())):
        raise GkdError("an edge_index holds a node id outside its own graph")
    out = Data(x=data.x, edge_index=data.edge_index + node_ptr[edge_graph], y=data.y,
               batch=batch, ptr=node_ptr)
    if data.get("edge_attr") is not None:
        out.edge_attr = data.edge_attr
    return out


def _check_graphs(graphs: Sequence[Data]) -> None:
    columns: dict[str, tuple[int, ...]] = {}  # the per-row shape of x and edge_attr so far
    first = graphs[0]
    for i, graph in enumerate(graphs):
        for key in ("x", "y", "edge_attr"):
            if (graph.get(key) is None) != (first.get(key) is None):
                has, lacks = (0, i) if graph.get(key) is None else (i, 0)
                raise GkdError(f"graph {lacks} has no {key} while graph {has} has: every "
                               f"graph needs the same attributes")
        if graph.get("edge_index") is None:
            raise GkdError(f"graph {i} has no edge_index (a graph without edges takes an "
                           f"empty one, torch.empty(2, 0, dtype=torch.long))")
        x = graph.get("x")
        if x is not None and x.dim() != 2:
            raise GkdError(f"graph {i}: node features x must have shape [num_nodes, "
                           f"num_features]; got {tuple(x.shape)}")
        check_edge_index(graph.edge_index, graph.num_nodes, f"graph {i}'s edge_index")
        edge_attr = graph.get("edge_attr")
        if edge_attr is not None and edge_attr.size(0) != graph.edge_index.size(1):
            raise GkdError(f"graph {i}: edge_attr has {edge_attr.size(0)} rows for "
                           f"{graph.edge_index.size(1)} edges")
        for key, rows in (("x", x), ("edge_attr", edge_attr)):
            if rows is None:
                continue
            shape = tuple(rows.shape[1:])
            if columns.setdefault(key, shape) != shape:
                raise GkdError(f"graph {i} has {key} rows of shape {shape}, the graphs before "
                               f"it {columns[key]}: every graph needs the same {key} columns")


def _graph_labels(y: Tensor | None, num_graphs: int) -> Tensor:
    if y is None:
        raise GkdError("graphs need a class label y")
    if y.dim() == 2 and y.size(1) != 1:
        raise GkdError(f"one class per graph expected; got labels of shape {tuple(y.shape)} "
                       f"(multi-task datasets are not supported)")
    if y.numel() != num_graphs:
        raise GkdError(f"one class per graph expected; got {y.numel()} labels for "
                       f"{num_graphs} graphs")
    y = y.view(-1)
    if y.is_floating_point() and torch.isnan(y).any():
        raise GkdError("graph labels contain NaN (missing labels are not supported)")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise GkdError("graph labels must be class indices; got fractional values (use "
                       "y.long() on class indices, or one class per graph)")
    y = y.long()
    if bool((y < 0).any()):
        raise GkdError(f"graph labels must be class indices 0..C-1; got {int(y.min())}")
    classes = y.unique().tolist()
    if len(classes) < 2:
        raise GkdError(f"a graph-classification task needs at least two classes; every "
                       f"graph has class {classes[0]}")
    if len(classes) != classes[-1] + 1:
        missing = sorted(set(range(classes[-1] + 1)) - set(classes))
        raise GkdError(f"graph labels must be class indices 0..C-1 with every class present; "
                       f"classes {', '.join(map(str, missing[:5]))} have no graph (renumber "
                       f"them, e.g. y - 1 for labels 1..C)")
    return y


def _check_features(data: Data, atom_features: bool) -> None:
    x = data.x
    if atom_features:
        if x.is_floating_point():
            raise GkdError(f"atom_features=True takes OGB's integer atom features; got x of "
                           f"{x.dtype}")
        return
    if x.dtype != torch.float32:
        raise GkdError(f"node features x must be torch.float32; got {x.dtype} (use x.float(), "
                       f"or atom_features=True for OGB's integer atom features)")
    if x.size(1) == 0:
        raise GkdError("node features x have no column (add some, e.g. with the transform "
                       "torch_geometric.transforms.OneHotDegree)")
    if not bool(torch.isfinite(x).all()):
        raise GkdError("node features x contain NaN or infinite values")
    edge_attr = data.get("edge_attr")
    if edge_attr is None:
        return
    if edge_attr.dtype != torch.float32:  # the GNNs' edge encoders are linear layers
        raise GkdError(f"edge features edge_attr must be torch.float32; got {edge_attr.dtype} "
                       f"(use edge_attr.float(): integer or one-hot labels stay exact)")
    if edge_attr.dim() > 1 and edge_attr.shape[1:].numel() == 0:
        raise GkdError("edge features edge_attr have no column: leave edge_attr out")
    if not bool(torch.isfinite(edge_attr).all()):
        raise GkdError("edge features edge_attr contain NaN or infinite values")


def _check_split(index: dict[str, Tensor], num_graphs: int) -> None:
    for name, idx in index.items():
        check_split_index(name, idx, num_graphs, item="graph")
    seen = torch.cat([idx.long() for idx in index.values()])
    if seen.unique().numel() != seen.numel():
        raise GkdError("the train, val and test splits overlap")


def stratified_split(y: Tensor, train: float = 0.8, val: float = 0.1,
                     seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    r"""A random split with the class proportions of :obj:`y` in every part: per class,
    a seeded permutation gives the first :obj:`train` share to training, the next
    :obj:`val` share to validation and the rest to test.

    Args:
        y (Tensor): a class index per graph.
        train (float, optional): the training share. (default: ``0.8``)
        val (float, optional): the validation share. (default: ``0.1``)
        seed (int, optional): the split seed. (default: ``0``)

    Returns:
        ``(train_idx, val_idx, test_idx)``: sorted ``torch.long`` indices.

    Raises:
        GkdError: a fraction lies outside :math:`(0, 1)`, or both sum to 1 or more, or
            the seed is not a non-negative integer.
    """
    check_fractions("split fractions", train=train, val=val)
    seed = check_seed(seed)
    rng = np.random.RandomState(seed)
    labels = y.view(-1).cpu().numpy()
    parts: tuple[list, list, list] = ([], [], [])
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_train = int(round(train * members.size))
        n_val = int(round(val * members.size))
        for part, chunk in zip(parts, np.split(members, [n_train, n_train + n_val])):
            part.append(chunk)
    return tuple(torch.from_numpy(np.sort(np.concatenate(p))).long()  # type: ignore[return-value]
                 for p in parts)


def mirage_split(num_graphs: int) -> tuple[Tensor, Tensor, Tensor]:
    r"""The Mirage reference's TU split: PyG's ``dataset.shuffle()`` right after
    ``torch.manual_seed(0)``, then the first tenth (rounded up) is test, the next tenth
    validation and the rest training. Not stratified; reproduces the reference's graphs
    as long as torch's ``randperm`` draws the same permutation.

    Args:
        num_graphs (int): the number of graphs.

    Returns:
        ``(train_idx, val_idx, test_idx)``: sorted ``torch.long`` indices.
    """
    order = torch.randperm(num_graphs, generator=torch.Generator().manual_seed(0))
    tenth = (num_graphs + 9) // 10
    parts = (order[2 * tenth:], order[tenth:2 * tenth], order[:tenth])
    return tuple(part.sort().values for part in parts)  # type: ignore[return-value]


TU_SPLITS = ("stratified", "mirage")


def graph_dataset_spec(name: str) -> GraphSetSpec:
    r"""The registry entry of :obj:`name` in :data:`GRAPH_DATASETS` (case-insensitive).

    Args:
        name (str): a graph dataset name.

    Returns:
        GraphSetSpec: the entry.

    Raises:
        GkdError: :obj:`name` is unknown; the message lists the known names.
    """
    try:
        return GRAPH_DATASETS[name.lower()]
    except KeyError:
        raise GkdError(f"unknown graph dataset '{name}'; known graph datasets: "
                       f"{', '.join(GRAPH_DATASETS)}") from None


def load_graph_task(name: str, root: str | os.PathLike | None = None,
                    cache: str | os.PathLike | None = None, split_seed: int = 0,
                    split: str = "stratified") -> GraphSetTask:
    r"""Loads the graph-classification task :obj:`name` from the data root.

    Args:
        name (str): a name from :data:`GRAPH_DATASETS`.
        root (str, optional): the data root. (default: ``$GKD_DATA_ROOT`` or
            ``./datasets``)
        cache (str, optional): the writable cache dir for processed files.
            (default: ``$GKD_CACHE_DIR`` or the user cache folder)
        split_seed (int, optional): the seed of the stratified TU split (OGB datasets use
            their official split). (default: ``0``)
        split (str, optional): the TU split, ``"stratified"`` (80/10/10 per class) or
            ``"mirage"`` (:func:`mirage_split`). (default: ``"stratified"``)

    Returns:
        GraphSetTask: TU datasets with the chosen split; OGB ones with their scaffold
        split, OGB's evaluator and integer atom features.

    Raises:
        GkdError: :obj:`name` is not a known graph dataset (the message lists the known
            names), :obj:`split` is unknown or given for an OGB dataset,
            :obj:`split_seed` is not a non-negative integer or given with the fixed
            ``"mirage"`` split, ogb asked an interactive question (outdated or missing
            files), or a file cannot be read (truncated, corrupt or another layout).
        DatasetNotFoundError: the data root or one of the dataset's files is missing.
    """
    spec = graph_dataset_spec(name)
    if split not in TU_SPLITS:
        raise GkdError(f"unknown TU split '{split}'; known: {', '.join(TU_SPLITS)}")
    if spec.is_ogb and (split != "stratified" or split_seed != 0):
        raise GkdError(f"{spec.name} has its official scaffold split; split and split_seed "
                       f"are for TU datasets")
    split_seed = check_seed(split_seed)
    if split == "mirage" and split_seed != 0:
        raise GkdError(f"the mirage split is fixed (seed 0); split_seed={split_seed} only "
                       f"applies to the stratified split")
    description = f"graph dataset '{spec.name}'"
    folder = dataset_folder(root, spec.folder, spec.files, description, spec.source)
    info: dict[str, Any] = {"dataset": spec.name}
    with files_read(description, folder, spec.source):
        if spec.is_ogb:
            dataset, scaffold = _open_ogbg(spec.name, folder, cache_dir(cache))
        else:
            dataset = _open_tu(folder, cache_dir(cache))
        _check_stored(dataset)
    if spec.is_ogb:
        info["split"] = "ogb scaffold"
        return GraphSetTask(dataset, scaffold["train"], scaffold["valid"], scaffold["test"],
                            evaluator=spec.name, atom_features=True, info=info)
    if split == "mirage":
        train, val, test = mirage_split(len(dataset))
        info["split"] = "mirage (shuffled with seed 0; first tenth test, next tenth val)"
    else:
        train, val, test = stratified_split(dataset.y, seed=split_seed)
        info.update(split="stratified 80/10/10", split_seed=split_seed)
    return GraphSetTask(dataset, train, val, test, info=info)


def _check_stored(dataset: InMemoryDataset) -> None:
    r"""Raises a :class:`ValueError` unless the dataset's collated tensors hold what its
    slices count, one label per graph included: a truncated raw file processes into
    tensors shorter than the graphs they are cut into."""
    data, slices = dataset._data, dataset.slices
    num_graphs = len(dataset)
    counts = {"x": None if data.get("x") is None else data.x.size(0),
              "edge_index": data.edge_index.size(1),
              "edge_attr": None if data.get("edge_attr") is None else data.edge_attr.size(0),
              "y": None if data.get("y") is None else data.y.size(0)}
    for key, count in counts.items():
        if count is not None and key in slices and int(slices[key][-1]) != count:
            raise ValueError(f"{key} holds {count} rows where its graphs count "
                             f"{int(slices[key][-1])}")
    if counts["y"] != num_graphs:
        raise ValueError(f"{counts['y'] or 0} graph labels for {num_graphs} graphs")


def _open_ogbg(name: str, folder: Path, cache: Path
               ) -> tuple[InMemoryDataset, dict[str, Tensor]]:
    def make(root: str) -> tuple[InMemoryDataset, dict[str, Tensor]]:
        from ogb.graphproppred import PygGraphPropPredDataset

        dataset = PygGraphPropPredDataset(name, root=root)
        return dataset, split_of(dataset)

    return open_ogb_dataset(make, name, folder, cache)


def _open_tu(folder: Path, cache: Path) -> InMemoryDataset:
    from torch_geometric.datasets import TUDataset

    with built_in_cache(folder, cache, folder.name) as mirror:  # processed/ in the cache
        return TUDataset(str(mirror.parent), folder.name)
