import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.datasets
def test_readme_python_example_runs(data_root, monkeypatch, capsys):
    monkeypatch.setenv("GKD_DATA_ROOT", str(data_root))
    # the node-distillation examples of "Use it from Python", run in one namespace
    section = README.read_text().split("## Use it from Python")[1].split("\n## ")[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "test_prod" in out and "perplexity" in out


@pytest.mark.datasets
def test_readme_link_and_condense_examples_run(data_root, monkeypatch):
    import gkd.condense.training
    import gkd.linkpred

    monkeypatch.setenv("GKD_DATA_ROOT", str(data_root))
    # the examples as written, with two epochs per model
    link_config, train_config = gkd.linkpred.link_config, gkd.condense.training.train_config

    def short_link_config(*args, **kwargs):
        config = link_config(*args, **kwargs)
        for part in ("teacher", "distiller"):
            config[part]["max_epochs"] = 2
        return config

    monkeypatch.setattr(gkd.linkpred, "link_config", short_link_config)
    monkeypatch.setattr(gkd.condense.training, "train_config",
                        lambda *args, **kwargs: {**train_config(*args, **kwargs), "max_epochs": 2})
    text = README.read_text()
    for heading, blocks, result in (("## Predict links with an MLP", 2, "logits"),
                                    ("## Condense a graph", 1, "metrics")):
        section = text.split(heading)[1].split("\n## ")[0]
        codes = re.findall(r"```python\n(.*?)```", section, re.S)
        assert len(codes) == blocks
        namespace: dict = {}
        for code in codes:
            exec(compile(code, str(README), "exec"), namespace)
        assert namespace[result] is not None


@pytest.mark.datasets
def test_readme_saved_student_example_runs(data_root, monkeypatch, tmp_path, capsys):
    from gkd.cli import main

    monkeypatch.setenv("GKD_DATA_ROOT", str(data_root))
    monkeypatch.chdir(tmp_path)  # the example reads students/ from the working folder
    assert main(["distill", "--dataset", "cora", "--seeds", "1", "--no-cache",
                 "--set", "teacher.max_epochs=2", "--set", "distiller.max_epochs=2",
                 "--save-students", "students"]) == 0, capsys.readouterr().err
    section = README.read_text().split("## Distil a GNN into an MLP")[1].split("\n## ")[0]
    codes = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(codes) == 1
    namespace: dict = {}
    exec(compile(codes[0], str(README), "exec"), namespace)
    assert namespace["logits"].shape == (2708, 7)
    import gkd  # the data the example loads are those the student was scored on

    task = gkd.make_node_task(namespace["data"], "cpf", seed=0)
    meta, student = namespace["meta"], namespace["student"]
    assert gkd.evaluate(task, lambda graph: student(graph.x)) == meta["metrics"]
