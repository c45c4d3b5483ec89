import ast
import importlib
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).parents[2] / "benchmarks").rglob("*.py"))


def _gkd_imports(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "gkd":
            yield node.module, [alias.name for alias in node.names]


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_benchmark_scripts_import_only_names_gkd_has(path):
    for module, names in _gkd_imports(path):
        missing = [name for name in names if not hasattr(importlib.import_module(module), name)]
        assert not missing, f"{path.name}: {module} has no {', '.join(missing)}"
