import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.datasets
def test_readme_python_example_runs(data_root, monkeypatch, capsys):
    monkeypatch.setenv("GKD_DATA_ROOT", str(data_root))
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(code, str(README), "exec"), {})
    assert "test_prod" in capsys.readouterr().out
