import json

import pytest

from gkd.cli import main
from gkd.data.graphsets import GRAPH_DATASETS


def _gkd(capsys, *args):
    try:
        code = main(list(args))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--dataset", "kora"], "known graph datasets: " + ", ".join(GRAPH_DATASETS)),
    (["--dataset", "mutag", "--support", "0"], "supports are shares in (0, 1]"),
    (["--dataset", "mutag", "--model", "sage"], "argument --model: invalid choice: 'sage'"),
    (["--dataset", "mutag", "--set", "model.depth=2"], "unknown model option(s) depth"),
    (["--dataset", "mutag", "--set", "condenser.itemsets=top"], "unknown itemsets 'top'"),
    (["--dataset", "mutag", "--method", "random", "--support", "0.1,0.2"], "one --support"),
    (["--dataset", "mutag", "--budget", "1000"], "--budget sets the size of --method random"),
    (["--dataset", "mutag", "--method", "random", "--budget", "1000", "--support", "0.1"],
     "--support would only set the budget when --budget is not given"),
    (["--dataset", "mutag", "--set", "model.pool=max"], "unknown model.pool 'max'"),
    (["--dataset", "mutag", "--set", "model.pool=[1]"], "unknown model.pool '[1]'"),
    (["--dataset", "mutag", "--set", "model.dropout=1"],
     "model option dropout must be in [0, 1); got 1.0"),
    (["--dataset", "mutag", "--set", "train.eval_batch_size=0"],
     "train option eval_batch_size must be at least 1; got 0"),
    (["--dataset", "mutag", "--set", "train.batch_size=null"],
     "train option batch_size must be at least 1; got None"),
    (["--dataset", "mutag", "--set", "train.lr=-0.1"],
     "train option lr must be positive; got -0.1"),
    (["--dataset", "mutag", "--device", "gpu"],
     "argument --device: expected cpu or cuda[:N], got 'gpu'"),
])
def test_bad_input_exits_with_one_line(capsys, tmp_path, args, message):
    code, _, err = _gkd(capsys, "condense", "--root", str(tmp_path), *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


@pytest.mark.datasets
def test_condense_writes_the_json_contract(capsys, data_root, tmp_path):
    out = tmp_path / "mutag.json"
    code, stdout, _ = _gkd(capsys, "condense", "--dataset", "mutag", "--seeds", "2", "--full",
                           "--support", "0.2,0.3", "--root", str(data_root), "--output", str(out),
                           "--set", "train.max_epochs=2", "--set", "model.hidden_channels=16")
    assert code == 0 and "distill_seconds" in stdout
    result = json.loads(out.read_text())
    assert result["task"]["dataset"] == "mutag" and len(result["runs"]) == 2
    assert result["complete"]
    summary = result["summary"]
    assert set(summary) == {"condensed", "full", "distill_seconds", "distilled_bytes"}
    assert {"val", "test"} <= set(summary["condensed"])
    assert summary["distilled_bytes"]["mean"] > 0
    run = result["runs"][0]
    assert run["distill"]["support"] in (0.2, 0.3) and run["distill"]["graphs"] > 0
    assert result["command"].startswith("gkd condense --dataset mutag")


@pytest.mark.datasets
def test_condense_resume_trains_only_the_missing_seeds(capsys, data_root, tmp_path):
    out = tmp_path / "mutag.json"
    fast = ["condense", "--dataset", "mutag", "--root", str(data_root), "--output", str(out),
            "--set", "train.max_epochs=2", "--set", "model.hidden_channels=16"]
    assert _gkd(capsys, *fast, "--seeds", "1")[0] == 0
    first = json.loads(out.read_text())
    code, _, err = _gkd(capsys, *fast, "--seeds", "2", "--resume")
    assert code == 0 and "reused from" in err
    resumed = json.loads(out.read_text())
    assert resumed["runs"][0] == first["runs"][0] and len(resumed["runs"]) == 2
    code, _, err = _gkd(capsys, *fast, "--seeds", "2", "--resume", "--full")
    assert code == 2 and "its task differs from this command's in full" in err
    code, _, err = _gkd(capsys, *fast, "--seeds", "2", "--resume", "--support", "0.2")
    assert code == 2 and "its support differs" in err
