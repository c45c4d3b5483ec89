import json

import pytest

from gkd import experiment
from gkd.bench import runner
from gkd.bench.config import BenchConfig
from gkd.bench.runner import NODE_RESULTS, run_bench
from gkd.bench.summary import summary_rows
from gkd.errors import GkdError
from gkd.io import append_jsonl

GRID = """
datasets = ["synthetic:nodes=300,degree=6,features=12,classes=3"]
settings = ["transductive", "inductive"]
seeds = 2

[set.teacher]
max_epochs = 15

[set.distiller]
max_epochs = 15
"""


@pytest.fixture
def grid(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(GRID)
    return BenchConfig.from_toml(path)


def _metrics(records):
    return [{k: v for k, v in r.items() if k not in ("seconds", "details", "env")}
            for r in records]


def _lines(path):
    return path.read_text().splitlines()


def test_grid_runs_once_and_a_rerun_skips_everything(grid, tmp_path, monkeypatch):
    records = run_bench(grid, tmp_path / "out", progress=False)
    assert len(records) == 4
    assert [(r["task"]["setting"], r["seed"]) for r in records] == [
        ("transductive", 0), ("transductive", 1), ("inductive", 0), ("inductive", 1)]
    assert {"teacher", "mlp", "student", "config_id", "env"} <= set(records[0])

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr("gkd.experiment.run_node_distillation", no_training)
    again = run_bench(grid, tmp_path / "out", progress=False)
    assert again == records
    assert len(_lines(tmp_path / "out" / NODE_RESULTS)) == 4


def test_an_interrupted_grid_resumes_with_one_record_per_run(grid, tmp_path, monkeypatch):
    full = run_bench(grid, tmp_path / "full", progress=False)

    calls = {"n": 0}
    real = experiment.run_node_distillation

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr("gkd.experiment.run_node_distillation", interrupted)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        run_bench(grid, out, progress=False)
    assert len(_lines(out / NODE_RESULTS)) == 1
    # a kill in the middle of an append leaves a torn last line
    with open(out / NODE_RESULTS, "a") as f:
        f.write('{"task": {"dataset": "synth')
    monkeypatch.setattr("gkd.experiment.run_node_distillation", real)
    resumed = run_bench(grid, out, progress=False)
    lines = _lines(out / NODE_RESULTS)
    assert len(lines) == 4 and all(json.loads(line) for line in lines)
    assert _metrics(resumed) == _metrics(full)
    assert summary_rows(resumed) == summary_rows(full)


@pytest.mark.parametrize("change, message", [
    (lambda rs: rs[0].pop("student"), "record 1: every model needs finite numeric val, test "
                                      "scores; student has not"),
    (lambda rs: rs[0]["mlp"].update(test="abc"), "record 1: every model needs finite numeric"),
    (lambda rs: rs[0].pop("config_id"), "record 1 has no config_id"),
    (lambda rs: rs[0]["config"]["student"].update(dropout=0.9),
     "record 1's config does not match its config_id"),
    (lambda rs: rs[1]["student"].update(test=99.0), "records 1 and 2 are the same run"),
])
def test_stored_records_that_cannot_be_summarised_stop_a_resume(grid, tmp_path, monkeypatch,
                                                                 change, message):
    task = {"dataset": "synthetic:nodes=300,degree=6,features=12,classes=3", "protocol": "cpf",
            "setting": "transductive", "teacher": "sage", "method": "glnn"}
    config = {"teacher": {}, "student": {"dropout": 0.5}, "distiller": {}}
    record = {"task": task, "seed": 0, "config_id": runner.config_id(config), "config": config,
              **{model: {"val": 80.0, "test": 80.0} for model in ("teacher", "mlp", "student")}}
    records = [record, json.loads(json.dumps(record))]
    change(records)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / NODE_RESULTS).write_text("".join(json.dumps(r) + "\n" for r in records))

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the stored records were checked")

    monkeypatch.setattr("gkd.experiment.run_node_distillation", no_training)
    with pytest.raises(GkdError, match=f"cannot resume: .*node.jsonl, {message}"):
        run_bench(grid, tmp_path / "out", progress=False)


def test_a_changed_option_reruns_only_what_it_affects(grid, tmp_path):
    run_bench(grid, tmp_path / "out", progress=False)
    grid.overrides["student"] = {"dropout": 0.5}
    records = run_bench(grid, tmp_path / "out", progress=False)
    assert len(_lines(tmp_path / "out" / NODE_RESULTS)) == 8
    assert all(r["config"]["student"]["dropout"] == 0.5 for r in records)


def test_runs_of_other_data_stop_a_resume(grid, tmp_path):
    out = tmp_path / "out"
    records = run_bench(grid, out, progress=False)
    assert all(len(r["fingerprint"]) == 64 for r in records)
    changed = [{**r, "fingerprint": "0" * 64} if i == 0 else r for i, r in enumerate(records)]
    (out / NODE_RESULTS).write_text("".join(json.dumps(r) + "\n" for r in changed))
    assert run_bench(grid, out, progress=False) == changed  # nothing to do: nothing mixed
    grid.seeds = 3
    with pytest.raises(GkdError, match="its synthetic.* cpf transductive run of seed 0 was "
                                       "trained on other data or another split"):
        run_bench(grid, out, progress=False)
    older = [{k: v for k, v in r.items() if k != "fingerprint"} for r in changed]
    (out / NODE_RESULTS).write_text("".join(json.dumps(r) + "\n" for r in older))
    assert len(run_bench(grid, out, progress=False)) == 6  # taken on their description


@pytest.mark.parametrize("text, message", [
    ('datasets = ["cora"]\nseed = 3\n', "unknown key(s) seed"),
    ('seeds = 3\n', "needs a 'datasets' list"),
    ('datasets = ["cora"]\nseeds = 0\n', "'seeds' must be a positive integer"),
    ('datasets = "cora"\n', "'datasets' must be a non-empty list"),
    ('datasets = [\n', "not valid TOML"),
    ('datasets = ["cora"]\n[set.model]\nx = 1\n', "[set] holds tables"),
    ('datasets = ["cora", "Cora"]\n', "'datasets' lists 'Cora' more than once"),
    ('datasets = ["cora"]\nprotocols = ["cpf", "cpf"]\n', "'protocols' lists 'cpf'"),
    ('datasets = ["cora"]\nsettings = ["inductive", "INDUCTIVE"]\n', "'settings' lists"),
    ('datasets = ["cora"]\nteachers = ["sage", "gcn", "sage"]\n', "'teachers' lists 'sage'"),
    ('datasets = ["cora"]\nmethods = ["glnn", "krd", "GLNN"]\n', "'methods' lists 'GLNN'"),
    ('datasets = ["cora"]\nresults = 5\n', "'results' must be a folder path (a string), not 5"),
])
def test_bad_grid_files_are_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(GkdError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        BenchConfig.from_toml(path)


def test_a_grid_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('datasets = ["café"]\n'.encode("latin-1"))
    with pytest.raises(GkdError, match="latin1.toml' is not UTF-8 text"):
        BenchConfig.from_toml(path)


@pytest.mark.parametrize("change, message", [
    ({"datasets": ["coraa"]}, "unknown dataset 'coraa'"),
    ({"datasets": ["synthetic:huge"]}, "unknown synthetic dataset"),
    ({"settings": ["semi"]}, "unknown settings semi"),
    ({"methods": ["nope"]}, "unknown distiller 'nope'|unknown method 'nope'"),
    ({"overrides": {"student": {"widthh": 3}}}, "unknown student option"),
    ({"teachers": ["sage", "appnp"],
      "overrides": {"teacher": {"batch_size": 16, "fanouts": [5, 5]}}}, "appnp propagates"),
    ({"overrides": {"teacher": {"fanouts": "x"}}}, "needs both batch_size and fanouts"),
])
def test_bad_grids_fail_before_training(grid, tmp_path, change, message):
    for key, value in change.items():
        setattr(grid, key, value)
    with pytest.raises(GkdError, match=message):
        runner.plan(grid)


def test_a_grid_whose_dataset_files_are_missing_fails_before_training(grid, tmp_path,
                                                                      monkeypatch):
    grid.datasets = [*grid.datasets, "pubmed"]

    def no_training(*args, **kwargs):
        raise AssertionError("trained before the missing files were found")

    monkeypatch.setattr("gkd.experiment.run_node_distillation", no_training)
    with pytest.raises(GkdError, match=f"dataset 'pubmed' not found: missing ind.pubmed.x.* in "
                                       f"'{tmp_path}"):
        run_bench(grid, tmp_path / "out", root=tmp_path, progress=False)
    assert not (tmp_path / "out").exists()


def test_a_finished_grid_is_summarised_without_its_data(grid, tmp_path):
    grid.datasets, grid.settings, grid.seeds = ["pubmed"], ["transductive"], 1
    scores = {"val": 70.0, "test": 70.0}
    for key, cfg in runner.plan(grid):
        append_jsonl(tmp_path / "out" / NODE_RESULTS,
                     {"task": key.task(), "seed": key.seed, "config_id": runner.config_id(cfg),
                      "config": cfg, "teacher": scores, "mlp": scores, "student": scores})
    records = run_bench(grid, tmp_path / "out", root=tmp_path / "no-data", progress=False)
    assert [r["student"] for r in records] == [scores]


def test_a_second_writer_is_refused(grid, tmp_path):
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(GkdError, match="another gkd bench is writing"):
            run_bench(grid, out, progress=False)


def test_a_grid_without_protocols_runs_each_dataset_under_its_own(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('datasets = ["cora", "ogbn-arxiv"]\nseeds = 1\n')
    runs = BenchConfig.from_toml(path).runs()
    assert [(run.dataset, run.protocol) for run in runs] == [("cora", "cpf"),
                                                              ("ogbn-arxiv", "ogb")]
    path.write_text('datasets = ["cora"]\nprotocols = ["public", "random"]\nseeds = 1\n')
    assert [run.protocol for run in BenchConfig.from_toml(path).runs()] == ["public", "random"]
