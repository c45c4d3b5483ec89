import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from gkd.data import load_dataset, make_node_task, read_npz_graph
from gkd.errors import DatasetNotFoundError, GkdError


def test_unknown_dataset_lists_known_names(tmp_path):
    with pytest.raises(GkdError, match="unknown dataset 'kora'; known datasets: cora, "):
        load_dataset("kora", root=tmp_path)


def test_missing_root_is_named(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="data root .*nowhere.* does not exist"):
        load_dataset("cora", root=tmp_path / "nowhere")


def test_missing_files_are_named_with_folder_and_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("a-photo", root=tmp_path)
    message = str(info.value)
    assert "amazon_electronics_photo.npz" in message
    assert str(tmp_path / "Amazon" / "Photo" / "raw") in message
    assert "gnn-benchmark" in message


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04" + b"0" * 64, None])
def test_an_unreadable_dataset_file_is_named_with_its_folder_and_source(tmp_path, content):
    folder = tmp_path / "npz"
    folder.mkdir()
    if content is None:  # a valid npz of another layout
        np.savez(folder / "cora.npz", a=np.ones(3))
    else:
        (folder / "cora.npz").write_bytes(content)
    with pytest.raises(GkdError, match=r"dataset 'cora-npz': cannot read the files in .*npz.*"
                                       r"truncated, corrupt or not in the expected layout; "
                                       r"get cora.npz from github.com/shchur/gnn-benchmark"):
        load_dataset("cora-npz", root=tmp_path)


def _write_npz(path: Path, adj: np.ndarray, attr: np.ndarray, labels: np.ndarray) -> None:
    import scipy.sparse as sp

    a, x = sp.csr_matrix(adj), sp.csr_matrix(attr)
    np.savez(path, adj_data=a.data, adj_indices=a.indices, adj_indptr=a.indptr,
             adj_shape=a.shape, attr_data=x.data, attr_indices=x.indices,
             attr_indptr=x.indptr, attr_shape=x.shape, labels=labels)


def test_npz_reader_keeps_raw_features_and_symmetrises(tmp_path):
    adj = np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32)  # self-loop, directed
    attr = np.array([[0, 3], [1, 0], [2, 5]], dtype=np.float32)
    _write_npz(tmp_path / "g.npz", adj, attr, np.array([0, 1, 1]))
    data = read_npz_graph(tmp_path / "g.npz")
    assert torch.equal(data.x, torch.tensor(attr))  # counts kept, not binarised
    assert sorted(map(tuple, data.edge_index.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]


@pytest.mark.parametrize("attr, labels", [
    (np.eye(3, 2, dtype=np.float32), np.array([0, 1])),
    (np.eye(2, 2, dtype=np.float32), np.array([0, 1, 1])),
    (np.eye(3, 2, dtype=np.float32), np.eye(3, 2)),
])
def test_npz_features_and_labels_must_cover_every_node(tmp_path, attr, labels):
    _write_npz(tmp_path / "g.npz", np.eye(3, dtype=np.float32), attr, labels)
    with pytest.raises(GkdError, match="one feature row and one label per node of the 3"):
        read_npz_graph(tmp_path / "g.npz")


@pytest.mark.datasets
def test_a_planetoid_file_holding_another_type_is_named(tmp_path, data_root):
    import pickle
    import shutil

    folder = tmp_path / "Cora" / "raw"
    shutil.copytree(Path(data_root) / "Cora" / "raw", folder)
    (folder / "ind.cora.x").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(GkdError, match="cannot read the files in .*TypeError"):
        load_dataset("cora", root=tmp_path, cache=tmp_path / "cache")


class _RunsCode:
    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.datasets
def test_a_planetoid_file_that_would_run_code_is_refused_unread(tmp_path, data_root):
    import pickle
    import shutil

    folder = tmp_path / "Cora" / "raw"
    shutil.copytree(Path(data_root) / "Cora" / "raw", folder)
    payload = _RunsCode()
    payload.marker = str(tmp_path / "ran")
    (folder / "ind.cora.x").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(GkdError, match="UnpicklingError: refused to load .*not a Planetoid"):
        load_dataset("cora", root=tmp_path, cache=tmp_path / "cache")
    assert not (tmp_path / "ran").exists()


def _write_csv_gz(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        for row in rows:
            f.write(",".join(str(v) for v in np.atleast_1d(row)) + "\n")


def _write_tiny_ogbn_arxiv(root: Path, num_nodes: int = 12) -> Path:
    folder = root / "ogb" / "ogbn_arxiv"
    rng = np.random.default_rng(0)
    edges = np.stack([np.arange(num_nodes - 1), np.arange(1, num_nodes)], 1)  # a directed path
    _write_csv_gz(folder / "raw" / "edge.csv.gz", edges)
    _write_csv_gz(folder / "raw" / "node-feat.csv.gz", rng.normal(size=(num_nodes, 4)).round(3))
    _write_csv_gz(folder / "raw" / "node-label.csv.gz", np.arange(num_nodes) % 3)
    _write_csv_gz(folder / "raw" / "node_year.csv.gz", np.full(num_nodes, 2019))
    _write_csv_gz(folder / "raw" / "num-node-list.csv.gz", [num_nodes])
    _write_csv_gz(folder / "raw" / "num-edge-list.csv.gz", [len(edges)])
    for name, idx in (("train", range(0, 6)), ("valid", range(6, 9)), ("test", range(9, 12))):
        _write_csv_gz(folder / "split" / "time" / f"{name}.csv.gz", list(idx))
    (folder / "RELEASE_v1.txt").write_text("tiny stand-in for ogbn-arxiv\n")
    return folder


def test_ogbn_loads_through_the_real_ogb_path(tmp_path):
    folder = _write_tiny_ogbn_arxiv(tmp_path / "data")
    folder.chmod(0o555)  # the data root is read-only: processed files must go to the cache
    try:
        data = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
        again = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    finally:
        folder.chmod(0o755)
    assert data.num_nodes == 12 and data.x.shape == (12, 4)
    assert data.y.tolist() == [i % 3 for i in range(12)]
    assert data.edge_index.size(1) == 22  # the directed path, made undirected
    assert data.train_mask.sum() == 6 and data.val_mask.sum() == 3 and data.test_mask.sum() == 3
    assert torch.equal(again.x, data.x)
    assert not (folder / "processed").exists()


class _Tampered:
    def __reduce__(self):
        return (print, ("code from the cache ran",))


@pytest.mark.parametrize("extra", ["pre_transform.pt", "pre_filter.pt"])
def test_the_extra_processed_files_pyg_unpickles_are_read_weights_only(tmp_path, capsys, extra):
    _write_tiny_ogbn_arxiv(tmp_path / "data")
    load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    (processed,) = (tmp_path / "cache").rglob("processed")
    torch.save(_Tampered(), processed / extra)
    with pytest.raises(GkdError, match="cannot be read weights-only .*delete that folder"):
        load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    assert "code from the cache ran" not in capsys.readouterr().out


def test_ogbs_own_reads_of_processed_files_are_weights_only(tmp_path, capsys, monkeypatch):
    _write_tiny_ogbn_arxiv(tmp_path / "data")
    load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    (processed,) = (tmp_path / "cache").rglob("processed/geometric_data_processed.pt")
    torch.save((_Tampered(), {}), processed)
    # torch < 2.6 reads with a full unpickling by default; this makes torch 2.6+ do so too
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(GkdError, match="cannot be read weights-only .*delete that folder"):
        load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    assert "code from the cache ran" not in capsys.readouterr().out


def test_processed_files_an_interrupted_build_left_are_rebuilt(tmp_path, monkeypatch):
    from ogb.nodeproppred import PygNodePropPredDataset

    from gkd.data.ogb import BUILT_MARKER

    _write_tiny_ogbn_arxiv(tmp_path / "data")

    def interrupted(self):  # a half-written file, then Ctrl-C
        Path(self.processed_paths[0]).write_bytes(b"PK\x03")
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(PygNodePropPredDataset, "process", interrupted)
        with pytest.raises(KeyboardInterrupt):
            load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    (processed,) = (tmp_path / "cache").rglob("processed")
    assert not (processed / BUILT_MARKER).exists()
    data = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    assert data.num_nodes == 12 and (processed / BUILT_MARKER).is_file()


def test_changed_raw_files_get_fresh_processed_files(tmp_path):
    folder = _write_tiny_ogbn_arxiv(tmp_path / "data")
    first = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    _write_csv_gz(folder / "raw" / "node-label.csv.gz", [2] * 6 + [1] * 6)
    again = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    assert first.y.tolist() != again.y.tolist() == [2] * 6 + [1] * 6


def test_a_same_size_edit_with_its_time_restored_gets_fresh_processed_files(tmp_path):
    import os

    folder = _write_tiny_ogbn_arxiv(tmp_path / "data")
    labels = folder / "raw" / "node-label.csv.gz"
    load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    before = labels.stat()
    _write_csv_gz(labels, (np.arange(12) + 1) % 3)
    os.utime(labels, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert labels.stat().st_size == before.st_size
    again = load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "cache")
    assert again.y.tolist() == ((np.arange(12) + 1) % 3).tolist()


def test_a_truncated_ogb_file_is_named_as_such_not_as_a_prompt(tmp_path):
    folder = _write_tiny_ogbn_arxiv(tmp_path)
    data = (folder / "raw" / "node-feat.csv.gz").read_bytes()
    (folder / "raw" / "node-feat.csv.gz").write_bytes(data[:len(data) // 2])
    with pytest.raises(GkdError, match="cannot read the files in .*truncated, corrupt"):
        load_dataset("ogbn-arxiv", root=tmp_path, cache=tmp_path / "cache")


def test_an_unusable_cache_dir_is_named(tmp_path):
    _write_tiny_ogbn_arxiv(tmp_path / "data")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(GkdError, match="cannot use the cache dir .*a_file.*GKD_CACHE_DIR"):
        load_dataset("ogbn-arxiv", root=tmp_path / "data", cache=tmp_path / "a_file" / "cache")


def test_a_loader_question_is_an_error_and_other_end_of_file_errors_pass():
    from gkd.data.ogb import _stdin_detached

    with pytest.raises(GkdError, match="ogb asked an interactive question while opening 'x'"):
        with _stdin_detached("x"):
            input("Will you update the dataset now? (y/N)")
    with pytest.raises(EOFError, match="truncated"), _stdin_detached("x"):
        raise EOFError("truncated")


def test_ogbn_without_release_marker_fails_instead_of_prompting(tmp_path):
    folder = _write_tiny_ogbn_arxiv(tmp_path)
    (folder / "RELEASE_v1.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="RELEASE_v1.txt"):
        load_dataset("ogbn-arxiv", root=tmp_path)


@pytest.mark.datasets
def test_planetoid_public_split(data_root):
    data = load_dataset("citeseer", root=data_root)
    assert data.num_nodes == 3327
    assert (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())) == (
        120, 500, 1000)


@pytest.mark.datasets
def test_citeseer_placeholder_nodes_are_never_drawn_into_a_random_split(data_root):
    data = load_dataset("citeseer", root=data_root)
    placeholder = data.placeholder_mask
    # the gaps in CiteSeer's test indices, filled by PyG with featureless class-0 nodes
    assert int(placeholder.sum()) == 15 and not bool(placeholder[data.test_mask].any())
    assert float(data.x[placeholder].abs().sum()) == 0.0
    task = make_node_task(data, "random", seed=0)
    drawn = torch.cat([task.train_idx, task.val_idx, task.test_idx])
    assert drawn.numel() == 3327 - 15 and not bool(placeholder[drawn].any())
    assert getattr(load_dataset("cora", root=data_root), "placeholder_mask", None) is None
