import json
import os
import subprocess
import sys

import pytest

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
    (["--dataset", "cora", "--teacher", "gin"], "argument --teacher: invalid choice: 'gin'"),
    (["--dataset", "cora", "--set", "teacher.heads=2"], "unknown teacher sage option(s) heads"),
    (["--dataset", "cora", "--set", "dropout=2"], "--set takes NAMESPACE.OPTION=VALUE"),
    (["--dataset", "cora", "--output", "/proc/x/y.json"], "--output /proc/x/y.json"),
])
def test_bad_input_exits_with_one_line(capsys, tmp_path, args, message):
    code, _, err = _gkd(capsys, "distill", "--root", str(tmp_path), *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


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
    record = json.loads(out.read_text())
    assert record["task"] == {"dataset": "cora", "protocol": "cpf", "setting": "inductive",
                              "teacher": "sage", "method": "glnn"}
    assert [run["seed"] for run in record["runs"]] == [0, 1]
    assert record["command"].startswith("gkd distill --dataset cora --setting inductive")
    for model in ("teacher", "mlp", "student"):
        assert set(record["runs"][0][model]) == {"val", "test_tran", "test_ind", "test_prod"}
        assert set(record["summary"][model]["test_prod"]) == {"mean", "std"}
