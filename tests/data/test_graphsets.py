import copy
import pickle
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data, InMemoryDataset

from gkd.data.graphsets import (
    GRAPH_DATASETS,
    GraphSetTask,
    load_graph_task,
    mirage_split,
    stratified_split,
)
from gkd.errors import DatasetNotFoundError, GkdError


def test_stratified_split_keeps_class_shares_and_is_seeded():
    y = torch.tensor([0] * 80 + [1] * 20)
    train, val, test = stratified_split(y, seed=3)
    assert (train.numel(), val.numel(), test.numel()) == (80, 10, 10)
    assert int(y[train].sum()) == 16 and int(y[val].sum()) == 2 and int(y[test].sum()) == 2
    assert torch.cat([train, val, test]).sort().values.tolist() == list(range(100))
    again = stratified_split(y, seed=3)
    assert all(torch.equal(a, b) for a, b in zip((train, val, test), again))
    assert not torch.equal(train, stratified_split(y, seed=4)[0])
    with pytest.raises(GkdError, match=r"split seed must be an integer in \[0, 2\*\*32\); got -1"):
        stratified_split(y, seed=-1)


def test_task_checks_its_split_and_scores(tiny_graphs):
    train, val, test = torch.arange(0, 6), torch.arange(6, 8), torch.arange(8, 10)
    task = GraphSetTask(tiny_graphs, train, val, test)
    assert task.metric == "rocauc" and task.sizes() == {"num_graphs": 10, "train": 6,
                                                        "val": 2, "test": 2}
    logits = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0]])
    scores = task.score(logits, torch.tensor([1, 0, 0]))
    assert scores["rocauc"] == pytest.approx(50.0) and scores["acc"] == pytest.approx(200 / 3)
    with pytest.raises(GkdError, match="the val split is empty"):
        GraphSetTask(tiny_graphs, train, torch.tensor([], dtype=torch.long), test)
    with pytest.raises(GkdError, match="overlap"):
        GraphSetTask(tiny_graphs, train, torch.tensor([0]), test)
    masks = [torch.zeros(10, dtype=torch.bool).index_fill_(0, idx, True)
             for idx in (train, val, test)]
    with pytest.raises(GkdError, match="the train split is a boolean mask; pass graph indices"):
        GraphSetTask(tiny_graphs, *masks)
    with pytest.raises(GkdError, match="refers to graphs outside 0..9"):
        GraphSetTask(tiny_graphs, train, [10], test)


@pytest.fixture
def tiny_graphs():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    return [Data(x=torch.eye(2), edge_index=edge_index, y=torch.tensor([i % 2]))
            for i in range(10)]


def test_mirage_split_slices_pygs_shuffle_after_seed_0(sized_graphs):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        _, order = _Stored(sized_graphs).shuffle(return_perm=True)
    train, val, test = mirage_split(10)
    assert test.tolist() == [int(order[0])] and val.tolist() == [int(order[1])]
    assert train.tolist() == order[2:].sort().values.tolist()
    assert [part.numel() for part in mirage_split(4110)] == [3288, 411, 411]


def test_unknown_splits_and_splits_of_ogb_datasets_are_refused(tmp_path):
    with pytest.raises(GkdError, match="unknown TU split 'random'; known: stratified, mirage"):
        load_graph_task("mutag", tmp_path, split="random")
    for options in ({"split": "mirage"}, {"split_seed": 1}):
        with pytest.raises(GkdError, match="ogbg-molhiv has its official scaffold split"):
            load_graph_task("ogbg-molhiv", tmp_path, **options)
    with pytest.raises(GkdError, match="split_seed=7 only applies to the stratified split"):
        load_graph_task("mutag", tmp_path, split="mirage", split_seed=7)
    with pytest.raises(GkdError, match="seed"):
        load_graph_task("mutag", tmp_path, split_seed=-1)


def test_unknown_and_missing_datasets_are_named(tmp_path):
    with pytest.raises(GkdError, match="known graph datasets: " + ", ".join(GRAPH_DATASETS)):
        load_graph_task("mutagg", tmp_path)
    with pytest.raises(DatasetNotFoundError, match="missing raw/MUTAG_A.txt"):
        load_graph_task("mutag", tmp_path)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_graph_task("mutag", tmp_path / "absent")


@pytest.mark.datasets
@pytest.mark.parametrize("name, sizes", [
    ("mutag", {"num_graphs": 188, "train": 150, "val": 18, "test": 20}),
    ("ogbg-molbace", {"num_graphs": 1513, "train": 1210, "val": 151, "test": 152}),
])
def test_real_graph_datasets_load_into_the_cache(data_root, name, sizes):
    before = sorted(p.name for p in data_root.rglob("processed"))
    task = load_graph_task(name, data_root)
    assert task.sizes() == sizes and task.num_classes == 2
    assert sorted(p.name for p in data_root.rglob("processed")) == before


@pytest.mark.datasets
def test_mutag_with_the_mirage_split(data_root):
    task = load_graph_task("mutag", data_root, split="mirage")
    assert task.sizes() == {"num_graphs": 188, "train": 150, "val": 19, "test": 19}
    assert task.info["split"].startswith("mirage")


class _Stored(InMemoryDataset):
    """Graphs held the way PyG datasets store them: collated, sliced on access."""

    def __init__(self, graphs, transform=None):
        super().__init__(transform=transform)
        self._data, self.slices = self.collate(graphs)


@pytest.fixture
def sized_graphs():
    edge_index = torch.tensor([[0, 1], [1, 0]])
    return [Data(x=torch.randn(i + 2, 3, generator=torch.Generator().manual_seed(i)),
                 edge_index=edge_index, y=torch.tensor([i % 2])) for i in range(10)]


def _task(graphs):
    return GraphSetTask(graphs, torch.arange(0, 6), torch.arange(6, 8), torch.arange(8, 10))


def test_stored_datasets_collate_like_their_graphs(sized_graphs):
    stored, listed = _task(_Stored(sized_graphs)).data, _task(sized_graphs).data
    for key in ("x", "edge_index", "y", "batch", "ptr"):
        assert torch.equal(stored[key], listed[key])


@pytest.mark.parametrize("cut, message", [
    (lambda d: setattr(d, "x", d.x[:-3]), "x holds 62 rows where its graphs count 65"),
    (lambda d: setattr(d, "y", d.y[:0]), "y holds 0 rows where its graphs count 10"),
])
def test_stored_tensors_shorter_than_their_slices_are_named(sized_graphs, cut, message):
    from gkd.data.graphsets import _check_stored

    stored = _Stored(sized_graphs)
    _check_stored(stored)
    cut(stored._data)  # as a truncated raw file processes
    with pytest.raises(ValueError, match=message):
        _check_stored(stored)


def test_the_dataset_transform_reaches_the_collated_graphs(sized_graphs):
    def double(graph):
        graph = copy.copy(graph)
        graph.x = 2 * graph.x
        return graph

    task = _task(_Stored(sized_graphs, transform=double))
    assert torch.equal(task.data.x, 2 * torch.cat([g.x for g in sized_graphs]))
    assert torch.equal(task.graphs("train")[1].x, task.data.x[task.data.batch == 1])


@pytest.mark.parametrize("stored", [False, True])
def test_graphs_without_features_are_named(sized_graphs, stored):
    graphs = [Data(edge_index=g.edge_index, y=g.y, num_nodes=g.num_nodes) for g in sized_graphs]
    with pytest.raises(GkdError, match="graphs need node features 'x'"):
        _task(_Stored(graphs) if stored else graphs)


@pytest.mark.parametrize("change, message", [
    (lambda g: setattr(g, "y", torch.tensor([0.2])), "fractional values"),
    (lambda g: setattr(g, "y", torch.tensor([-1])), "class indices 0..C-1; got -1"),
    (lambda g: setattr(g, "x", g.x.long()), "must be torch.float32; got torch.int64"),
    (lambda g: setattr(g, "x", g.x.double()), "must be torch.float32; got torch.float64"),
    (lambda g: setattr(g, "x", torch.full((2, 2), float("nan"))), "NaN or infinite"),
    (lambda g: setattr(g, "y", torch.tensor([0])), "at least two classes; every graph has "
                                                   "class 0"),
    (lambda g: setattr(g, "y", g.y + 1), "every class present; classes 0 have no graph"),
    (lambda g: setattr(g, "edge_attr", torch.full((2, 1), float("nan"))),
     "edge features edge_attr contain NaN"),
    (lambda g: setattr(g, "edge_attr", torch.ones(2, 1, dtype=torch.long)),
     "edge_attr must be torch.float32; got torch.int64"),
    (lambda g: setattr(g, "edge_attr", torch.ones(2, 2, dtype=torch.bool)),
     "edge_attr must be torch.float32; got torch.bool"),
    (lambda g: setattr(g, "edge_attr", torch.ones(2, 0)), "edge_attr have no column"),
    (lambda g: setattr(g, "x", g.x[:, :0]), "node features x have no column"),
])
def test_bad_graph_labels_and_features_are_named(tiny_graphs, change, message):
    for graph in tiny_graphs:
        change(graph)
    with pytest.raises(GkdError, match=message):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))



@pytest.mark.parametrize("change, message", [
    (lambda g: setattr(g, "y", torch.tensor([0, 1])), "got 20 labels for 10 graphs"),
    (lambda g: setattr(g, "y", torch.zeros(g.num_nodes, dtype=torch.long)), "labels for 10 graphs"),
    (lambda g: setattr(g, "edge_index", torch.tensor([[0], [5]])),
     r"node ids must be in \[0, 2\); graph 0's edge_index holds ids from 0 to 5"),
])
def test_labels_and_edges_are_checked_per_graph(tiny_graphs, change, message):
    for graph in tiny_graphs:
        change(graph)
    with pytest.raises(GkdError, match=message):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))


@pytest.mark.parametrize("change, message", [
    (lambda g: setattr(g, "edge_attr", torch.ones(2, 1)), "graph 0 has no edge_attr while "
                                                           "graph 4 has"),
    (lambda g: delattr(g, "y"), "graph 4 has no y while graph 0 has"),
    (lambda g: delattr(g, "edge_index"), "graph 4 has no edge_index"),
    (lambda g: setattr(g, "x", None), "graph 4 has no x while graph 0 has"),
])
def test_attributes_of_one_graph_are_checked_against_the_others(tiny_graphs, change, message):
    change(tiny_graphs[4])
    with pytest.raises(GkdError, match=message):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))


def test_graphs_without_edges_may_carry_empty_edge_features(tiny_graphs):
    for graph in tiny_graphs:
        graph.edge_index = torch.empty(2, 0, dtype=torch.long)
        graph.edge_attr = torch.empty(0, 2)
    task = GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))
    assert task.data.edge_attr.shape == (0, 2)


def test_int32_edges_are_read_as_int64(tiny_graphs):
    for graph in tiny_graphs:
        graph.edge_index = graph.edge_index.int()
    task = GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))
    assert task.data.edge_index.dtype == torch.long
    assert {g.edge_index.dtype for g in task.graphs("train")} == {torch.long}


def test_edge_features_need_one_row_per_edge(tiny_graphs):
    for graph in tiny_graphs:
        graph.edge_attr = torch.ones(2, 1)
    tiny_graphs[4].edge_attr = torch.ones(1, 1)
    with pytest.raises(GkdError, match="graph 4: edge_attr has 1 rows for 2 edges"):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))


def test_graphs_of_different_feature_widths_are_named(tiny_graphs):
    tiny_graphs[3].x = torch.ones(tiny_graphs[3].num_nodes, 5)
    with pytest.raises(GkdError, match=r"graph 3 has x rows of shape \(5,\), the graphs before"):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))


def test_graphs_of_different_edge_feature_widths_are_named(tiny_graphs):
    for graph in tiny_graphs:
        graph.edge_attr = torch.ones(graph.edge_index.size(1), 2)
    tiny_graphs[5].edge_attr = torch.ones(tiny_graphs[5].edge_index.size(1), 3)
    with pytest.raises(GkdError, match=r"graph 5 has edge_attr rows of shape \(3,\)"):
        GraphSetTask(tiny_graphs, torch.arange(6), torch.arange(6, 8), torch.arange(8, 10))


@pytest.mark.parametrize("stored", [False, True])
def test_an_edge_into_another_graph_is_named(sized_graphs, stored):
    sized_graphs[0].edge_index = torch.tensor([[0], [sized_graphs[0].num_nodes]])
    with pytest.raises(GkdError, match="node id"):
        _task(_Stored(sized_graphs) if stored else sized_graphs)

def test_ogbg_sources_name_ogbs_download_files():
    from gkd.data.graphsets import graph_dataset_spec

    assert "csv_mol_download/hiv.zip" in graph_dataset_spec("ogbg-molhiv").source
    assert "csv_mol_download/bace.zip" in graph_dataset_spec("ogbg-molbace").source


class _Tampered:
    def __reduce__(self):
        return (print, ("code from the cache ran",))


@pytest.mark.datasets
@pytest.mark.parametrize("content", [pickle.dumps(_Tampered()), b"PK\x03\x04" + b"0" * 64])
def test_a_tampered_or_corrupt_processed_file_is_named_and_never_unpickled(
        data_root, tmp_path, capsys, content):
    load_graph_task("mutag", data_root, tmp_path)
    (processed,) = tmp_path.rglob("processed/data.pt")
    processed.write_bytes(content)
    with pytest.raises(GkdError, match=f"in {processed.parent} cannot be read weights-only .*"
                                       f"delete that folder"):
        load_graph_task("mutag", data_root, tmp_path)
    assert "code from the cache ran" not in capsys.readouterr().out


class _RunsCode:
    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.datasets
def test_an_ogb_split_file_is_read_weights_only_and_checked(tmp_path, data_root, monkeypatch):
    import shutil

    folder = tmp_path / "ogb" / "ogbg_molbace"
    shutil.copytree(Path(data_root) / "ogb" / "ogbg_molbace", folder)
    split = folder / "split" / "scaffold" / "split_dict.pt"
    payload = _RunsCode()
    payload.marker = str(tmp_path / "ran")
    torch.save(payload, split)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # weights-only all the same
    with pytest.raises(GkdError, match="the official split in .* cannot be read"):
        load_graph_task("ogbg-molbace", tmp_path, cache=tmp_path / "cache")
    assert not (tmp_path / "ran").exists()
    torch.save({"train": torch.arange(3), "test": torch.arange(3)}, split)
    with pytest.raises(GkdError, match="the official split in .* has no 'valid' index"):
        load_graph_task("ogbg-molbace", tmp_path, cache=tmp_path / "cache")


def test_a_cache_where_no_lock_can_be_made_is_named_as_the_cache(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from gkd.data import ogb

    raw = tmp_path / "root" / "MUTAG" / "raw"
    raw.mkdir(parents=True)
    (raw / "MUTAG_A.txt").write_text("1, 2\n")

    @contextmanager
    def refused(path, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))
        yield

    monkeypatch.setattr(ogb, "file_lock", refused)
    with pytest.raises(GkdError, match=r"cannot prepare the cache of 'mutag' in .*"
                                       r"PermissionError.*GKD_CACHE_DIR"):
        with ogb.built_in_cache(raw.parent, tmp_path / "cache", "mutag"):
            pass
