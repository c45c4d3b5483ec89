import json

import pytest

from gkd.bench.report import load_results, write_report
from gkd.errors import GkdError
from gkd.io import append_jsonl


def _record(dataset, setting, seed, student):
    metric = "test" if setting == "transductive" else "test_prod"
    scores = lambda v: {"val": v, metric: v}  # noqa: E731
    return {"task": {"dataset": dataset, "protocol": "cpf", "setting": setting,
                     "teacher": "sage", "method": "glnn"},
            "seed": seed, "teacher": scores(80.0 + seed), "mlp": scores(60.0 + seed),
            "student": scores(student + seed)}


def _speed(dataset):
    stats = lambda m: {"median": m, "iqr": 0.1 * m, "q25": 0.9 * m, "q75": 1.1 * m,  # noqa: E731
                       "repeats": 100, "raw": [m]}
    env = {"cpu": "test CPU", "threads": 2, "interop_threads": 2, "device": "cpu",
           "torch": "2", "torch_geometric": "2", "ogb": "1", "ops_backend": "torch",
           "pyg_lib": False, "gkd": "0", "commit": None}
    model = {"model": "M", "layers": 2, "hidden": 8, "params": 100}
    return {"task": {"dataset": dataset, "protocol": "cpf", "setting": "inductive",
                     "teacher": "sage"}, "env": env,
            "models": {"teacher": model, "student": model},
            "rows": [{"batch": b, "teacher_ms": stats(b * 2.0), "student_ms": stats(0.1),
                      "speedup": b * 20.0} for b in (1, 10, 100)],
            "full_graph": {"nodes": 500, "student_batch": 64,
                           "teacher": {**stats(5.0), "nodes_per_second": 1e5},
                           "student": {**stats(0.5), "nodes_per_second": 1e6},
                           "speedup": 10.0}}


@pytest.fixture
def results(tmp_path):
    for seed in range(3):
        append_jsonl(tmp_path / "bench" / "node.jsonl", _record("cora", "transductive", seed, 81))
        append_jsonl(tmp_path / "bench" / "node.jsonl", _record("cora", "inductive", seed, 78))
    (tmp_path / "bench" / "summary.json").write_text("{}")  # not a result file: skipped
    (tmp_path / "speed.json").write_text(json.dumps(_speed("cora")))
    return tmp_path


def test_report_has_tables_published_numbers_and_plots(results, tmp_path):
    pytest.importorskip("matplotlib")
    loaded = load_results([results / "bench", results / "speed.json"])
    assert len(loaded.records) == 6 and len(loaded.speeds) == 1
    files = write_report(loaded, tmp_path / "report")
    assert {"report.md", "report.html", "accuracy.png", "accuracy_vs_latency.png",
            "latency.png"} <= set(files)
    markdown = files["report.md"].read_text()
    # mean ± std of 81, 82, 83 and the paper's 80.54 beside it, with the difference
    assert "| cora | transductive | sage | glnn | 3 | test | 81.00 ± 1.00 | 61.00 ± 1.00 | " \
           "82.00 ± 1.00 | 80.54 ± 1.35 (paper, validation-selected) | +1.46 |" in markdown
    assert "| 10 | 20.000 (2.000) | 0.1000 (0.0100) | 200.0× | 100 / 100 |" in markdown
    page = files["report.html"].read_text()
    assert page.count("data:image/png;base64,") == 3 and "<table>" in page
    for name in ("accuracy.png", "accuracy_vs_latency.png", "latency.png"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_later_records_of_a_run_replace_earlier_ones(results):
    append_jsonl(results / "bench" / "node.jsonl", _record("cora", "transductive", 0, 90))
    loaded = load_results([results / "bench"])
    assert len(loaded.records) == 6
    assert sorted(r["student"].get("test", 0) for r in loaded.records)[-1] == 90


def test_unusable_inputs_are_named(tmp_path):
    with pytest.raises(GkdError, match="does not exist"):
        load_results([tmp_path / "missing.json"])
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(GkdError, match="not a gkd result file"):
        load_results([tmp_path / "other.json"])
    (tmp_path / "odd.jsonl").write_text('{"x": 1}\n')
    with pytest.raises(GkdError, match="record 1: not a run record"):
        load_results([tmp_path / "odd.jsonl"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(GkdError, match="no results found"):
        load_results([tmp_path / "empty"])
