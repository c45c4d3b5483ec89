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
