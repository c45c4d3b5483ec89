import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import torch

from gkd.cli import main
from gkd.data import DATASETS


def _gkd(capsys, *args):
    """Runs the command line in-process; returns (exit code, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--dataset", "kora"], "unknown dataset 'kora'"),
    (["--dataset", "cora", "--seeds", "0"], "argument --seeds: must be at least 1"),
    (["--dataset", "cora", "--teacher", "gine"], "argument --teacher: invalid choice: 'gine'"),
    (["--dataset", "cora", "--set", "teacher.heads=2"], "unknown teacher sage option(s) heads"),
    (["--dataset", "cora", "--set", "dropout=2"], "--set takes NAMESPACE.OPTION=VALUE"),
    (["--dataset", "cora", "--output", "/proc/x/y.json"], "--output /proc/x/y.json"),
    (["--dataset", "cora", "--output", "/proc/y.json"], "cannot write --output /proc/y.json"),
    (["--dataset", "cora", "--seeds", str(2**32 + 1)], "seeds are 0..N-1 below 2**32"),
    (["--dataset", "cora", "--set", "student.hidden_channels=Infinity"],
     "student option hidden_channels takes a finite number; got inf"),
    (["--dataset", "cora", "--method", "vqgraph", "--set", "teacher.ema=yes"],
     "option ema takes true or false; got 'yes'"),
    (["--dataset", "cora", "--set", "distiller.lr=-1"],
     "glnn option lr must be positive; got -1.0"),
    (["--dataset", "cora", "--set", "student.hidden_channels=0"],
     "student option hidden_channels must be at least 1; got 0"),
    (["--dataset", "cora", "--set", "teacher.max_epochs=0"],
     "teacher sage option max_epochs must be at least 1; got 0"),
    (["--dataset", "cora", "--set", "student.norm=batch"],
     "student option norm must be one of null (None in Python), 'batch_norm', 'layer_norm'; "
     "got 'batch'"),
    (["--dataset", "cora", "--teacher", "gat", "--set", "teacher.attn_dropout=1"],
     "teacher gat option attn_dropout must be in [0, 1); got 1.0"),
    (["--dataset", "cora", "--device", "tpu"],
     "argument --device: expected cpu or cuda[:N], got 'tpu'"),
    (["--dataset", "cora", "--set", "student.hidden_channels=99999999999999999999"],
     "student option hidden_channels must be below 2**31; got 99999999999999999999"),
    (["--dataset", "cora", "--set", "teacher.num_layers=99999999999999999999999"],
     "teacher sage option num_layers must be below 2**31"),
])
def test_bad_input_exits_with_one_line(capsys, tmp_path, args, message):
    code, _, err = _gkd(capsys, "distill", "--root", str(tmp_path), *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


def test_paths_of_the_wrong_kind_are_named(capsys, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    grid = tmp_path / "grid.toml"
    grid.write_text(f'datasets = ["{SMALL}"]\nseeds = 1\n')
    records = tmp_path / "runs.jsonl"
    task = {"dataset": "cora", "protocol": "cpf", "setting": "transductive", "teacher": "sage",
            "method": "glnn"}
    scores = {"val": 80.0, "test": 80.0}
    records.write_text(json.dumps({"task": task, "seed": 0, "teacher": scores, "mlp": scores,
                                   "student": scores}) + "\n")
    cases = [
        (["distill", "--dataset", "cora", "--output", ""], "--output needs a file name"),
        (["distill", "--dataset", "cora", "--output", f"{tmp_path}/new/"],
         "it names a folder; give a file path"),
        (["distill", "--dataset", "cora", "--root", str(a_file)], "is not a folder"),
        (["bench", "--config", str(tmp_path)], "is a folder; give a TOML file"),
        (["bench", "--config", str(grid), "--results", str(a_file)], "results folder .* is a file"),
        (["report", str(records), "--out", str(a_file)], "report folder .* is a file"),
    ]
    for argv, message in cases:
        code, _, err = _gkd(capsys, *argv)
        assert code == 2 and len(err.strip().splitlines()) == 1, (argv, err)
        assert re.search(message, err), (argv, err)


@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: can't "
                 "allocate memory: you tried to allocate 480000000000000 bytes."),
    MemoryError(),
])
def test_running_out_of_memory_is_one_line(capsys, monkeypatch, error):
    def out_of_memory(args):
        raise error

    monkeypatch.setattr("gkd.cli._distill", out_of_memory)
    code, _, err = _gkd(capsys, "distill", "--dataset", "cora")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("gkd distill: error: out of memory (")


def test_other_runtime_errors_keep_their_traceback(monkeypatch):
    def bug(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("gkd.cli._distill", bug)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["distill", "--dataset", "cora"])


@pytest.mark.parametrize("seconds", ["nan", "0", "-1", "inf"])
def test_speed_takes_positive_finite_seconds(capsys, seconds):
    code, _, err = _gkd(capsys, "speed", "--dataset", "cora", "--max-seconds", seconds)
    assert code == 2 and "--max-seconds: must be a positive finite number" in err


def test_missing_data_root_is_named(capsys, tmp_path):
    code, _, err = _gkd(capsys, "distill", "--dataset", "cora", "--root", str(tmp_path / "no"))
    assert code != 0
    assert err.strip().splitlines()[-1].endswith(
        "does not exist; pass --root DIR or set GKD_DATA_ROOT")


def test_console_entry_point_reports_errors_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gkd", "distill", "--dataset", "kora",
                             "--root", str(tmp_path)], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=300, env=dict(os.environ))
    assert result.returncode == 2
    assert result.stderr.strip() == ("gkd distill: error: unknown dataset 'kora'; known "
                                     "datasets: " + ", ".join(DATASETS) + ", or synthetic:NAME "
                                     "(cora, a-computer, arxiv, products)")


@pytest.mark.datasets
def test_distill_writes_the_json_contract(capsys, data_root, tmp_path):
    out = tmp_path / "out" / "cora.json"
    code, stdout, stderr = _gkd(capsys, "distill", "--dataset", "cora", "--setting", "inductive",
                                "--seeds", "2", "--root", str(data_root), "--output", str(out),
                                "--set", "teacher.max_epochs=5", "--set", "distiller.max_epochs=5")
    assert code == 0, stderr
    assert "seed 2/2" in stderr and "student" in stdout
    assert "test_ind: the teacher sees the held-out nodes with their edges restored" in stdout
    record = json.loads(out.read_text())
    assert record["task"] == {"dataset": "cora", "protocol": "cpf", "setting": "inductive",
                              "teacher": "sage", "method": "glnn"}
    assert [run["seed"] for run in record["runs"]] == [0, 1] and record["complete"]
    assert record["command"].startswith("gkd distill --dataset cora --setting inductive")
    for model in ("teacher", "mlp", "student"):
        assert set(record["runs"][0][model]) == {"val", "test_tran", "test_ind", "test_prod"}
        assert set(record["summary"][model]["test_prod"]) == {"mean", "std"}


SMALL = "synthetic:nodes=300,degree=6,features=12,classes=3"


def test_an_interrupted_distill_keeps_its_finished_seeds(capsys, tmp_path, monkeypatch):
    import gkd.experiment

    run = gkd.experiment.run_node_distillation

    def stop_at_seed_1(task, *args, **kwargs):
        if task.seed == 1:
            raise KeyboardInterrupt
        return run(task, *args, **kwargs)

    monkeypatch.setattr(gkd.experiment, "run_node_distillation", stop_at_seed_1)
    out = tmp_path / "small.json"
    code, _, _ = _gkd(capsys, "distill", "--dataset", SMALL, "--seeds", "3", "--output", str(out),
                      "--set", "teacher.max_epochs=5", "--set", "distiller.max_epochs=5")
    assert code == 130
    partial = json.loads(out.read_text())
    assert [r["seed"] for r in partial["runs"]] == [0] and partial["complete"] is False
    assert partial["summary"]["student"]["test"]["std"] is None


def test_distill_resume_trains_only_the_missing_seeds(capsys, tmp_path, monkeypatch):
    import gkd.experiment

    out = tmp_path / "small.json"
    fast = ["--dataset", SMALL, "--output", str(out), "--set", "teacher.max_epochs=5",
            "--set", "distiller.max_epochs=5"]
    assert _gkd(capsys, "distill", *fast, "--seeds", "2")[0] == 0
    full = json.loads(out.read_text())
    out.write_text(json.dumps({**full, "runs": full["runs"][1:], "complete": False}))
    trained = []
    run = gkd.experiment.run_node_distillation
    monkeypatch.setattr(gkd.experiment, "run_node_distillation",
                        lambda task, *a, **k: trained.append(task.seed) or run(task, *a, **k))
    code, _, err = _gkd(capsys, "distill", *fast, "--seeds", "2", "--resume")
    assert code == 0 and trained == [0] and "reused from" in err
    resumed = json.loads(out.read_text())
    def scores(runs):
        return [{k: r[k] for k in ("seed", "fingerprint", "teacher", "mlp", "student")}
                for r in runs]

    assert scores(resumed["runs"]) == scores(full["runs"])
    assert resumed["runs"][1] == full["runs"][1] and resumed["resumed"][0]["seeds"] == [1]
    stored = resumed["runs"]
    out.write_text(json.dumps({**resumed, "runs": [{**stored[0], "fingerprint": "0" * 64},
                                                   stored[1]]}))
    code, _, err = _gkd(capsys, "distill", *fast, "--seeds", "3", "--resume")
    assert code == 2 and "seed 0 was trained on other data or another split" in err
    code, _, err = _gkd(capsys, "distill", *fast, "--seeds", "3", "--resume", "--method", "krd")
    assert code == 2 and "its task differs from this command's in method" in err


def test_a_second_command_writing_the_same_output_is_refused(capsys, tmp_path):
    from gkd.io import file_lock

    out = tmp_path / "small.json"
    with file_lock(tmp_path / ".small.json.lock"):  # a first command still running
        code, _, err = _gkd(capsys, "distill", "--dataset", SMALL, "--seeds", "1",
                            "--output", str(out))
    assert code == 2 and f"another gkd command is writing to '{out}'" in err
    assert not out.exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_distill_trains_on_the_device_it_is_given(capsys, tmp_path):
    out = tmp_path / "small.json"
    code, _, err = _gkd(capsys, "distill", "--dataset", SMALL, "--seeds", "1", "--device", "cuda",
                        "--no-cache", "--output", str(out), "--set", "teacher.max_epochs=5",
                        "--set", "distiller.max_epochs=5")
    assert code == 0, err
    env = json.loads(out.read_text())["env"]
    assert env["device"] == "cuda" and env["gpu"]


def test_bench_then_report_from_the_command_line(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    grid = tmp_path / "grid.toml"
    grid.write_text(f'datasets = ["{SMALL}"]\nmethods = ["glnn", "krd"]\nseeds = 2\n'
                    'results = "out"\n[set.teacher]\nmax_epochs = 10\n'
                    "[set.distiller]\nmax_epochs = 10\n")
    assert main(["bench", "--config", str(grid), "--no-progress", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "4 runs in" in out and "glnn" in out and "test" in out
    assert "students against glnn's, paired by seed" in out
    records = [json.loads(line) for line in (tmp_path / "out" / "node.jsonl").open()]
    assert {record["env"]["device"] for record in records} == {"cpu"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(r["method"], r["seeds"]) for r in summary["paired"]] == [("krd", 2)]
    speed = tmp_path / "speed.json"
    threads = torch.get_num_threads()
    try:
        assert main(["speed", "--dataset", SMALL, "--batch-sizes", "1,4", "--max-seconds",
                     "0.2", "--threads", "1", "--output", str(speed)]) == 0
    finally:
        torch.set_num_threads(threads)
    record = json.loads(speed.read_text())
    assert [row["batch"] for row in record["rows"]] == [1, 4]
    assert record["env"]["threads"] == 1 and record["models"]["teacher"]["model"] == "SAGE"
    links = tmp_path / "link-speed.json"
    try:
        assert main(["speed", "--dataset", SMALL, "--task", "link", "--batch-sizes", "1,4",
                     "--max-seconds", "0.2", "--threads", "1", "--set",
                     "teacher.hidden_channels=16", "--output", str(links)]) == 0
    finally:
        torch.set_num_threads(threads)
    link_record = json.loads(links.read_text())
    assert link_record["task"]["kind"] == "link" and link_record["setup"]["queries"] == "links"
    assert link_record["task"]["setting"] == "production"
    assert link_record["config"]["teacher"]["hidden_channels"] == 16
    assert main(["report", str(tmp_path / "out"), str(speed), str(links), "--out",
                 str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "report.html").is_file()
    assert "production link queries" in (tmp_path / "report" / "report.md").read_text()


@pytest.mark.parametrize("argv, message", [
    (["bench", "--config", "missing.toml"], "config file 'missing.toml' does not exist"),
    (["speed", "--dataset", "synthetic:nope"], "unknown synthetic dataset"),
    (["speed", "--dataset", SMALL, "--device", "cuda:7"], "CUDA is not available"),
    (["distill", "--dataset", SMALL, "--device", "cuda:7"], "CUDA is not available"),
    (["bench", "--config", "missing.toml", "--device", "cuda:7"], "CUDA is not available"),
    (["report", "nowhere", "--out", "x"], "'nowhere' does not exist"),
    (["report", "nowhere", "--out", ""], "--out needs a folder"),
    (["datasets", "--root", ""], "the data root is an empty path"),
    (["speed", "--dataset", SMALL, "--set", "distiller.lr=0.1"],
     "distiller options have no effect"),
    (["speed", "--dataset", SMALL, "--set", "teacher.max_epochs=3", "--set", "teacher.lr=0.1"],
     "teacher training options (lr, max_epochs) have no effect"),
    (["speed", "--dataset", SMALL, "--batch-sizes", "99999999999999999999999"],
     "argument --batch-sizes: must be below 2**31"),
    (["speed", "--dataset", SMALL, "--task", "link", "--teacher", "gat"],
     "--task link takes a link teacher: sage, gcn; got gat"),
    (["speed", "--dataset", SMALL, "--task", "link", "--setting", "inductive"],
     "--task link takes --setting transductive or production; got inductive"),
    (["speed", "--dataset", SMALL, "--setting", "production"],
     "--task node takes --setting transductive or inductive; got production"),
    (["speed", "--dataset", SMALL, "--task", "link", "--protocol", "cpf"],
     "--protocol chooses a node split"),
    (["speed", "--dataset", SMALL, "--task", "link", "--set", "teacher.edge_batch_size=8"],
     "teacher training options (edge_batch_size) have no effect"),
])
def test_new_commands_report_bad_input_in_one_line(capsys, argv, message):
    if "cuda:7" in argv and torch.cuda.is_available():
        pytest.skip("CUDA present")
    code, _, err = _gkd(capsys, *argv)
    assert code == 2
    err = err.strip()
    assert len(err.splitlines()) == 1 and message in err


def _repository(path):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "gkd").mkdir(parents=True)
    (path / "gkd" / "code.py").write_text("x = 1\n")
    (path / "results.json").write_text("{}\n")
    subprocess.run(["git", "add", "."], cwd=path, check=True)
    subprocess.run(["git", "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q",
                    "-m", "first"], cwd=path, check=True)
    return subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=path, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_the_recorded_commit_is_dirty_only_when_the_package_code_changed(tmp_path,
                                                                          monkeypatch):
    from gkd import experiment

    head = _repository(tmp_path)
    monkeypatch.setattr(experiment, "__file__", str(tmp_path / "gkd" / "experiment.py"))
    (tmp_path / "results.json").write_text("{\"new\": 1}\n")  # a result rewritten
    assert experiment.environment()["commit"] == head
    (tmp_path / "gkd" / "code.py").write_text("x = 2\n")
    assert experiment.environment()["commit"] == f"{head}-dirty"


def test_an_installed_copy_inside_another_repository_records_no_commit(tmp_path, monkeypatch):
    from gkd import experiment

    _repository(tmp_path)
    package = tmp_path / "site-packages" / "gkd"
    package.mkdir(parents=True)
    monkeypatch.setattr(experiment, "__file__", str(package / "experiment.py"))
    assert experiment.environment()["commit"] is None


def test_a_failed_command_leaves_no_output_folders(capsys, tmp_path):
    out = tmp_path / "new" / "sub" / "x.json"
    code, _, err = _gkd(capsys, "distill", "--dataset", "nosuch", "--output", str(out))
    assert code != 0 and "unknown dataset" in err and not (tmp_path / "new").exists()


def test_the_environment_names_the_cpu_kernels_in_use():
    from gkd import experiment

    env = experiment.environment()
    assert env["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert f"inter-op, {env['cpu_capability']})" in experiment.hardware_line(env)
    older = {k: v for k, v in env.items() if k != "cpu_capability"}  # records before it
    assert f"{env['interop_threads']} inter-op) ·" in experiment.hardware_line(older)


def test_datasets_lists_what_the_data_root_holds(capsys, tmp_path):
    spec = DATASETS["cora-npz"]
    for name in spec.files:
        (tmp_path / spec.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / spec.folder / name).write_bytes(b"")
    assert main(["datasets", "--root", str(tmp_path)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert lines["cora-npz"].endswith("ready")
    assert "missing 8 of 8 files: ind.cora.x, ..." in lines["cora"]
    assert "missing" in lines["mutag"]
    assert main(["datasets", "--root", str(tmp_path / spec.folder / spec.files[0])]) == 0
    assert "(is not a folder)" in capsys.readouterr().out.splitlines()[0]


def test_a_closed_output_pipe_ends_the_command_quietly(tmp_path):
    command = f"{shlex.quote(sys.executable)} -m gkd datasets --root {shlex.quote(str(tmp_path))}"
    result = subprocess.run(["bash", "-c", f"{command} | head -c 1 > /dev/null; "
                             f"echo ${{PIPESTATUS[0]}}"], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() in ("0", "141") and result.stderr == ""

