import json

import pytest

from gkd.bench import report
from gkd.bench.report import load_results, write_report
from gkd.bench.runner import config_id
from gkd.bench.summary import format_rows, paired_differences, summary_rows
from gkd.errors import GkdError
from gkd.evaluation import SETTING_METRICS
from gkd.io import append_jsonl


def _record(dataset, setting, seed, student, protocol="cpf", **extra):
    scores = lambda v: dict.fromkeys(SETTING_METRICS[setting], v)  # noqa: E731
    return {"task": {"dataset": dataset, "protocol": protocol, "setting": setting,
                     "teacher": "sage", "method": "glnn"},
            "seed": seed, "teacher": scores(80.0 + seed), "mlp": scores(60.0 + seed),
            "student": scores(student + seed), **extra}


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
    assert "| cora | cpf | transductive | sage | glnn | 3 | test | 81.00 ± 1.00 | " \
           "61.00 ± 1.00 | 82.00 ± 1.00 | 80.54 ± 1.35 (paper, validation-selected) | " \
           "+1.46 |" in markdown
    assert "Config" not in markdown  # one configuration per task: no column for it
    assert "| 10 | 20.000 (2.000) | 0.1000 (0.0100) | 200.0× | 100 / 100 |" in markdown
    # the speed run (inductive queries) is paired with the inductive records' accuracy
    assert "trained (cpf protocol, inductive, test_prod, 3 seeds): teacher (sage) " \
           "81.00 ± 1.00; MLP 61.00 ± 1.00; glnn student 79.00 ± 1.00." in markdown
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


def test_runs_of_different_configurations_are_not_mixed(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "node.jsonl"
    for seed in range(3):
        append_jsonl(path, _record("cora", "transductive", seed, 81, config_id="aaaa"))
    # an interrupted rerun with another configuration, then a rerun of its seed 0
    append_jsonl(path, _record("cora", "transductive", 0, 50, config_id="bbbb"))
    append_jsonl(path, _record("cora", "transductive", 0, 70, config_id="bbbb"))
    loaded = load_results([path])
    assert len(loaded.records) == 4
    rows = summary_rows(loaded.records)
    assert [(r["config_id"], r["seeds"], r["summary"]["student"]["test"]["mean"])
            for r in rows] == [("aaaa", 3, 82.0), ("bbbb", 1, 70.0)]
    markdown = write_report(loaded, tmp_path / "report")["report.md"].read_text()
    assert "| Dataset | Protocol | Setting | Teacher | Method | Config | Seeds |" in markdown
    assert "| cora | cpf | transductive | sage | glnn | aaaa | 3 | test |" in markdown
    assert "| cora | cpf | transductive | sage | glnn | bbbb | 1 | test |" in markdown


def test_a_distill_file_is_one_run_of_the_bench_record_with_its_config(tmp_path):
    config = {"teacher": {"hidden": 8}, "student": {"dropout": 0.5}, "distiller": {}}
    bench = _record("cora", "transductive", 0, 70, config_id=config_id(config))
    append_jsonl(tmp_path / "a" / "node.jsonl", bench)
    distilled = _record("cora", "transductive", 0, 90)
    (tmp_path / "b.json").write_text(json.dumps({
        "task": distilled.pop("task"), "config": config, "runs": [distilled]}))
    loaded = load_results([tmp_path / "a", tmp_path / "b.json"])
    assert [r["student"]["test"] for r in loaded.records] == [90]
    other = {**config, "student": {"dropout": 0.1}}
    (tmp_path / "b.json").write_text(json.dumps({
        "task": bench["task"], "config": other, "runs": [distilled]}))
    assert len(load_results([tmp_path / "a", tmp_path / "b.json"]).records) == 2


def test_an_unfinished_distill_file_is_reported_with_a_warning(tmp_path):
    distilled = _record("cora", "transductive", 0, 90)
    (tmp_path / "b.json").write_text(json.dumps({
        "task": distilled.pop("task"), "config": {}, "runs": [distilled], "complete": False}))
    with pytest.warns(UserWarning, match=r"b.json is an unfinished gkd distill result .*only "
                                         r"its 1 finished seed"):
        assert len(load_results([tmp_path / "b.json"]).records) == 1


def _not_node_results(folder):
    folder.mkdir()
    link = {"dataset": "cora", "setting": "transductive", "teacher": "sage", "method": "llp",
            "split_seed": 0, "metric": "hits@20"}
    (folder / "linkpred.json").write_text(json.dumps(
        {"task": link, "config": {}, "runs": [{"seed": 0, "student": {"test": 1.0}}]}))
    (folder / "condense.json").write_text(json.dumps(
        {"task": {"dataset": "mutag", "method": "mirage", "model": "gin"}, "runs": []}))
    (folder / "broken.json").write_text('{"task": ')
    (folder / "latin1.json").write_bytes(b'{"name": "caf\xe9"}')
    (folder / "latin1.jsonl").write_bytes(b'{"name": "caf\xe9"}\n')
    (folder / "sweep.jsonl").write_text('{"dataset": "cora", "val": 80.0}\n')
    return folder


def test_a_folder_scan_skips_files_that_hold_no_node_runs(results):
    other = _not_node_results(results / "other")
    loaded = load_results([results / "bench", other])
    assert len(loaded.records) == 6 and loaded.sources == [str(results / "bench" / "node.jsonl")]


@pytest.mark.parametrize("name, message", [
    ("linkpred.json", "linkpred.json: not a gkd result file"),
    ("condense.json", "condense.json: not a gkd result file"),
    ("broken.json", "broken.json: not JSON"),
    ("latin1.json", "latin1.json: not UTF-8 text"),
    ("latin1.jsonl", "latin1.jsonl, line 1: not UTF-8 text"),
    ("sweep.jsonl", "sweep.jsonl, record 1: not a run record"),
])
def test_a_named_file_that_holds_no_node_runs_is_an_error(tmp_path, name, message):
    with pytest.raises(GkdError, match=message):
        load_results([_not_node_results(tmp_path / "other") / name])


@pytest.mark.parametrize("name, bad, message", [
    ("node.jsonl", '{"task": \n', "node.jsonl, line 2: not a JSON record"),
    ("node.jsonl", b'\xff\n', "node.jsonl, line 2: not UTF-8 text"),
    ("node.jsonl", '{"x": 1}\n', "node.jsonl, record 2: not a run record"),
    ("copy.jsonl", '{"x": 1}\n', "copy.jsonl, record 2: not a run record"),
])
def test_a_bench_results_file_with_a_bad_record_is_not_skipped(tmp_path, name, bad, message):
    path = tmp_path / "bench" / name
    append_jsonl(path, _record("cora", "transductive", 0, 81))
    with open(path, "ab") as f:
        f.write(bad if isinstance(bad, bytes) else bad.encode())
    append_jsonl(path, _record("cora", "transductive", 1, 81))
    with pytest.raises(GkdError, match=message):
        load_results([tmp_path])


def test_protocols_get_their_own_tables_and_bars(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    path = tmp_path / "node.jsonl"
    for protocol, student in (("cpf", 81), ("public", 71)):
        for seed in range(2):
            append_jsonl(path, _record("cora", "transductive", seed, student, protocol))
    drawn = {}

    def save(plt, fig, file):
        ax = fig.axes[0]
        drawn[file.name] = ([t.get_text() for t in ax.get_xticklabels()],
                            {c.get_label(): [b.get_height() for b in c.patches]
                             for c in ax.containers if hasattr(c, "patches")})
        return real(plt, fig, file)

    real = report._save
    monkeypatch.setattr(report, "_save", save)
    markdown = write_report(load_results([path]), tmp_path / "report")["report.md"].read_text()
    _, cpf, public = markdown.split("Inference speed")[0].split("### Protocol ")
    assert cpf.startswith("cpf") and public.startswith("public")  # never in one table
    assert "| cora | cpf | transductive | sage | glnn | 2 |" in cpf
    assert "| cora | public | transductive | sage | glnn | 2 |" in public
    printed = format_rows(summary_rows(load_results([path]).records)).split("\n\n")
    assert [("cpf" in t, "public" in t) for t in printed] == [(True, False), (False, True)]
    ticks, bars = drawn["accuracy.png"]
    assert ticks == ["cora\ncpf\ntransductive\nsage", "cora\npublic\ntransductive\nsage"]
    assert bars["student (glnn)"] == [81.5, 71.5]


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(student={}), "every model needs finite numeric val, test scores; student"),
    (lambda r: r["student"].update(test="x"), "every model needs finite numeric val, test scores"),
    (lambda r: r["task"].update(setting="weird"), "unknown setting 'weird'"),
    (lambda r: r.update(seed="zero"), "the seed must be an integer; got 'zero'"),
    (lambda r: r.update(seed=[1]), r"the seed must be an integer; got \[1\]"),
    (lambda r: r["task"].update(dataset=5), "not a run record .*task fields .* as names"),
    (lambda r: r["task"].update(protocol=None), "not a run record"),
    (lambda r: r["student"].pop("test_tran"), "every model needs finite numeric val, test_tran, "
                                               "test_ind, test_prod scores; student"),
    (lambda r: r["teacher"].update(note="x"), "teacher's 'note' is not a finite number: 'x'"),
    (lambda r: r["student"].update(test=float("nan")), "every model needs finite numeric val, "
                                                        "test scores; student"),
    (lambda r: r["mlp"].update(note=float("inf")), "mlp's 'note' is not a finite number: inf"),
])
def test_run_records_without_usable_scores_are_named(tmp_path, change, message):
    setting = "inductive" if "test_tran" in message else "transductive"
    record = _record("cora", setting, 0, 81)
    change(record)
    append_jsonl(tmp_path / "node.jsonl", record)
    with pytest.raises(GkdError, match=f"node.jsonl, record 1: {message}"):
        load_results([tmp_path])


def test_metrics_of_some_seeds_only_are_left_out_of_the_summary(tmp_path):
    first = _record("cora", "transductive", 0, 81)
    first["teacher"]["epoch"] = 12
    append_jsonl(tmp_path / "node.jsonl", first)
    append_jsonl(tmp_path / "node.jsonl", _record("cora", "transductive", 1, 81))
    (row,) = summary_rows(load_results([tmp_path]).records)
    assert set(row["summary"]["teacher"]) == {"val", "test"}
    assert row["summary"]["teacher"]["test"]["mean"] == 80.5


def test_an_incomplete_speed_result_is_named(tmp_path):
    speed = _speed("cora")
    del speed["models"]
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    with pytest.raises(GkdError, match="speed.json: an incomplete gkd speed result "
                                       "\\(KeyError: 'models'\\)"):
        load_results([tmp_path / "speed.json"])


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(rows=[]), "no timed query sizes"),
    (lambda s: s["rows"][0]["student_ms"].update(median=0.0),
     "student_ms needs positive quartiles"),
    (lambda s: s["rows"][0]["teacher_ms"].update(q25=1e9), "teacher_ms needs positive quartiles"),
    (lambda s: s["rows"][0].update(batch="ten"), "a query size must be a positive integer; "
                                                 "got 'ten'"),
    (lambda s: s["rows"][0]["student_ms"].update(q75=float("inf")),
     "student_ms needs positive quartiles"),
    (lambda s: s["full_graph"]["teacher"].update(median=float("nan")),
     "the full-graph timing needs a node count and positive medians"),
])
def test_speed_results_without_usable_timings_are_named(tmp_path, change, message):
    speed = _speed("cora")
    change(speed)
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    with pytest.raises(GkdError, match=f"an incomplete gkd speed result \\(ValueError: {message}"):
        load_results([tmp_path / "speed.json"])


def test_methods_with_their_own_teachers_get_their_own_teacher_bars(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    path = tmp_path / "node.jsonl"
    for seed in range(2):
        append_jsonl(path, _record("cora", "transductive", seed, 81))
        tokenizer = _record("cora", "transductive", seed, 79)
        tokenizer["task"]["method"] = "vqgraph"
        tokenizer["teacher"] = {"val": 70.0, "test": 70.0}  # its tokenizer, not the GNN
        append_jsonl(path, tokenizer)
    drawn = {}

    def bar(self, xs, heights, *args, label=None, **kwargs):
        drawn[label] = list(heights)
        return real(self, xs, heights, *args, label=label, **kwargs)

    from matplotlib.axes import Axes

    real = Axes.bar
    monkeypatch.setattr(Axes, "bar", bar)
    report.plot_accuracy_bars(summary_rows(load_results([path]).records), tmp_path / "a.png")
    assert drawn["teacher (sage) · glnn"] == [80.5] and drawn["teacher (sage) · vqgraph"] == [70.0]
    assert drawn["MLP"] == [60.5]


def test_latency_is_paired_only_with_students_of_the_timed_width(tmp_path):
    pytest.importorskip("matplotlib")

    def config(width):
        return {"teacher": {"hidden_channels": 128, "num_layers": 2},
                "student": {"hidden_channels": width, "num_layers": 2}}

    records = [_record("cora", "inductive", seed, 81, config=config(128)) for seed in range(2)]
    rows = summary_rows(records)
    for width, paired in ((2048, False), (128, True)):
        speed = {**_speed("cora"), "config": config(width)}
        drawn = report.plot_accuracy_vs_latency(rows, [speed], tmp_path / f"{width}.png")
        assert (drawn is not None) == paired


def test_the_latency_plot_names_the_query_size_it_shows(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    labels = {}

    def save(plt, fig, file):
        ax = fig.axes[0]
        labels[file.name] = (ax.get_xlabel(), [t.get_text() for t in ax.texts])
        return file

    monkeypatch.setattr(report, "_save", save)
    rows = summary_rows([_record("cora", "inductive", seed, 81) for seed in range(2)])
    speed = _speed("cora")
    report.plot_accuracy_vs_latency(rows, [speed], tmp_path / "ten.png")
    assert labels["ten.png"][0].startswith("inference latency for 10 unseen nodes")
    speed["rows"] = [row for row in speed["rows"] if row["batch"] != 10]
    other = {**_speed("cora"), "task": {**speed["task"], "dataset": "citeseer"}}
    rows += summary_rows([_record("citeseer", "inductive", seed, 71) for seed in range(2)])
    report.plot_accuracy_vs_latency(rows, [speed, other], tmp_path / "mixed.png")
    axis, texts = labels["mixed.png"]
    assert axis.startswith("inference latency per query of the labelled size")
    assert "cora: teacher (sage) (1 nodes)" in texts and any("(10 nodes)" in t for t in texts)


def test_a_speed_up_between_depths_is_flagged_in_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    speed = _speed("cora")
    speed["models"] = {**speed["models"], "teacher": {**speed["models"]["teacher"], "layers": 3}}
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    markdown = write_report(load_results([tmp_path / "speed.json"]),
                            tmp_path / "report")["report.md"].read_text()
    assert "Warning: the teacher has 3 layers and the student 2; quote a speed-up only" in markdown


def _method_record(method, seed, student, config_id="c"):
    record = _record("cora", "transductive", seed, student, config_id=config_id)
    record["task"]["method"] = method
    return record


def _paired_records():
    records = [_method_record("glnn", seed, 80) for seed in range(4)]
    # differences 1, 2, 3 on seeds 0-2; seed 3 has no krd run and seed 4 no glnn run
    records += [_method_record("krd", seed, 81 + seed) for seed in range(3)]
    records.append(_method_record("krd", 4, 50))
    records.append(_method_record("vqgraph", 0, 70))  # one pair: no interval
    return records


def test_methods_are_paired_with_glnn_seed_by_seed():
    rows = paired_differences(_paired_records())
    assert [(r["method"], r["seeds"], r["wins"], r["losses"]) for r in rows] == [("krd", 3, 3, 0)]
    # t(0.975, 2 degrees of freedom) = 4.3027; sample std of (1, 2, 3) is 1
    assert rows[0]["mean"] == pytest.approx(2.0)
    assert rows[0]["ci95"] == pytest.approx(4.302653 / 3 ** 0.5, rel=1e-6)


def test_the_report_has_the_paired_table(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "node.jsonl"
    for record in _paired_records():
        append_jsonl(path, record)
    markdown = write_report(load_results([path]), tmp_path / "report")["report.md"].read_text()
    assert "| cora | cpf | transductive | sage | krd | 3 | test | +2.00 ± 2.48 | 3 / 0 |" \
        in markdown


def test_no_pairs_when_the_baseline_has_several_configurations():
    first, second = ([_method_record("glnn", seed, 80, config_id=c) for seed in range(3)]
                     for c in ("a", "b"))
    krd = [_method_record("krd", seed, 82) for seed in range(3)]
    assert paired_differences(first + second + krd) == []
    assert len(paired_differences(first + krd)) == 1


def test_link_speed_tables_say_links_and_pair_with_no_accuracy(results, tmp_path):
    pytest.importorskip("matplotlib")
    links = _speed("cora")
    links["task"] = {"dataset": "cora", "kind": "link", "setting": "production",
                     "teacher": "sage"}
    links["setup"] = {"queries": "links"}
    (results / "speed.json").write_text(json.dumps(links))
    loaded = load_results([results / "bench", results / "speed.json"])
    files = write_report(loaded, tmp_path / "report")
    markdown = files["report.md"].read_text()
    assert "cora · production link queries" in markdown and "| Query links |" in markdown
    assert "all 500 nodes (throughput, embeddings)" in markdown
    assert "Test accuracy of these architectures" not in markdown
    assert "accuracy_vs_latency.png" not in files


def test_a_teacher_is_paired_with_a_speed_run_of_that_teacher_only():
    rows = summary_rows([_record("cora", "inductive", seed, 81) for seed in range(2)])
    speed = _speed("cora")
    assert {model for model, *_ in report._timed_models(rows, speed)} == {"teacher", "mlp",
                                                                          "student"}
    speed["task"]["teacher"] = "gin"  # same width and depth, another model
    assert {model for model, *_ in report._timed_models(rows, speed)} == {"mlp", "student"}


def test_a_speed_result_with_a_null_setup_is_a_node_result(tmp_path):
    from gkd.bench.speed import query_kind

    speed = {**_speed("cora"), "setup": None}
    assert query_kind(speed) == "nodes"
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    assert len(load_results([tmp_path / "speed.json"]).speeds) == 1


def test_the_speed_section_names_each_models_seeds_and_the_setup_and_skips_the_tokenizer(
        tmp_path):
    pytest.importorskip("matplotlib")
    gnn = {"hidden_channels": 8, "num_layers": 2}
    config = {"teacher": gnn, "student": {"hidden_channels": 8, "num_layers": 2}}
    tokenizer = {"teacher": {**gnn, "num_codes": 16}, "student": config["student"]}
    path = tmp_path / "bench" / "node.jsonl"
    for seed in range(3):
        append_jsonl(path, _record("cora", "inductive", seed, 81, config=config))
    for seed in range(2):  # an interrupted vqgraph cell: two seeds, its tokenizer as teacher
        record = _record("cora", "inductive", seed, 79, config=tokenizer)
        record["task"]["method"] = "vqgraph"
        record["teacher"] = dict.fromkeys(record["teacher"], 70.0)
        append_jsonl(path, record)
    speed = {**_speed("cora"), "config": config,
             "setup": {"full_graph_includes": "forward only (adjacency prebuilt)"}}
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    files = write_report(load_results([tmp_path / "bench", tmp_path / "speed.json",
                                       tmp_path / "speed.json"]), tmp_path / "report")
    markdown = files["report.md"].read_text()
    assert markdown.count("| 10 | 20.000 (2.000)") == 1  # the speed file named twice, read once
    assert "Setup: full graph includes: forward only (adjacency prebuilt)." in markdown
    assert "test_prod, seeds as stated): teacher (sage) · glnn 81.00 ± 1.00 (3 seeds); " \
           "MLP · glnn 61.00 ± 1.00 (3 seeds); MLP · vqgraph 60.50 ± 0.71 (2 seeds); " \
           "glnn student 82.00 ± 1.00 (3 seeds); vqgraph student 79.50 ± 0.71 (2 seeds)." \
           in markdown  # no teacher (sage) · vqgraph: the tokenizer is not the timed GNN


def test_a_report_written_again_leaves_no_plot_it_did_not_draw(results, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "report"
    write_report(load_results([results / "bench", results / "speed.json"]), out)
    assert (out / "accuracy.png").is_file()
    files = write_report(load_results([results / "speed.json"]), out)
    assert not (out / "accuracy.png").exists() and not (out / "accuracy_vs_latency.png").exists()
    assert (out / "latency.png").is_file() and "latency.png" in files
