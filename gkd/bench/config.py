r"""Benchmark grids read from TOML.

.. code-block:: toml

    datasets = ["cora", "citeseer"]
    protocols = ["cpf"]                  # default: ogb for ogbn-*, cpf otherwise
    settings = ["transductive", "inductive"]  # default ["transductive"]
    teachers = ["sage"]                  # default ["sage"]
    methods = ["glnn"]                   # default ["glnn"]
    seeds = 10                           # seeds 0..9, default 10
    results = "../results/cpf"           # optional, relative to this file

    [set.student]                        # optional overrides, as --set
    dropout = 0.5
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gkd.errors import GkdError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_LISTS = ("datasets", "protocols", "settings", "teachers", "methods")
_KEYS = (*_LISTS, "seeds", "results", "set")
NAMESPACES = ("teacher", "student", "distiller")
TASK_FIELDS = ("dataset", "protocol", "setting", "teacher", "method")


def _names(path: Path, key: str, value: Any) -> list[str]:
    r"""The names of the list :obj:`key`, lower-cased, each once."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise GkdError(f"{path}: '{key}' must be a non-empty list of names")
    names = [v.lower() for v in value]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise GkdError(f"{path}: '{key}' lists '{value[i]}' more than once (names are "
                           f"case-insensitive)")
    return names


@dataclass(frozen=True)
class RunKey:
    r"""One (task, method, seed) run of a grid.

    Args:
        dataset (str): the dataset name.
        protocol (str): the split protocol.
        setting (str): ``"transductive"`` or ``"inductive"``.
        teacher (str): the teacher name.
        method (str): the distiller name.
        seed (int): the seed.
    """

    dataset: str
    protocol: str
    setting: str
    teacher: str
    method: str
    seed: int

    def task(self) -> dict[str, str]:
        r"""The task fields and method, as run records store them under ``"task"``."""
        return {f: getattr(self, f) for f in TASK_FIELDS}


@dataclass
class BenchConfig:
    r"""A grid of node-distillation runs: every combination of the lists, seeds
    ``0..seeds-1``.

    Args:
        datasets (list[str]): dataset names, as ``gkd distill --dataset`` takes them.
        protocols (list[str], optional): split protocols. (default: ``None``, each
            dataset's :func:`~gkd.data.tasks.default_protocol`: ``ogb`` for ``ogbn-*``,
            ``cpf`` otherwise)
        settings (list[str], optional): ``transductive`` / ``inductive``.
            (default: ``["transductive"]``)
        teachers (list[str], optional): teacher names. (default: ``["sage"]``)
        methods (list[str], optional): distiller names. (default: ``["glnn"]``)
        seeds (int, optional): number of seeds. (default: ``10``)
        overrides (dict, optional): ``{"teacher": {...}, "student": {...},
            "distiller": {...}}`` applied to every run.
        results (Path, optional): the results folder named by the file.
            (default: ``None``)
    """

    datasets: list[str]
    protocols: list[str] | None = None
    settings: list[str] = field(default_factory=lambda: ["transductive"])
    teachers: list[str] = field(default_factory=lambda: ["sage"])
    methods: list[str] = field(default_factory=lambda: ["glnn"])
    seeds: int = 10
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: Path | None = None

    @classmethod
    def from_toml(cls, path: str | Path) -> BenchConfig:
        r"""Reads and checks a grid file (see :mod:`gkd.bench.config`); errors name the
        file and the offending key. List entries are lower-cased; ``results`` is taken
        relative to the file's folder.

        Args:
            path (str or Path): the TOML file.

        Returns:
            BenchConfig: the grid. Names are not checked against the registries here
            (:func:`~gkd.bench.runner.plan` does that).

        Raises:
            GkdError: the file is missing, not UTF-8 or not TOML; it has an unknown key
                or no ``datasets``; a list is empty, holds a non-string or repeats a
                name; ``seeds`` is not a positive integer; ``[set]`` holds other tables
                than ``teacher``, ``student`` and ``distiller``; or ``results`` is not a
                non-empty string.
        """
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GkdError(f"config file '{path}' does not exist") from None
        except IsADirectoryError:
            raise GkdError(f"config file '{path}' is a folder; give a TOML file") from None
        except UnicodeDecodeError as error:
            raise GkdError(f"config file '{path}' is not UTF-8 text ({error.reason} at byte "
                           f"{error.start})") from None
        except tomllib.TOMLDecodeError as error:
            raise GkdError(f"config file '{path}' is not valid TOML: {error}") from None
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise GkdError(f"{path}: unknown key(s) {', '.join(unknown)}; known: "
                           f"{', '.join(_KEYS)}")
        if "datasets" not in raw:
            raise GkdError(f"{path}: the grid needs a 'datasets' list")
        kwargs: dict[str, Any] = {}
        for key in _LISTS:
            if key in raw:
                kwargs[key] = _names(path, key, raw[key])
        if "seeds" in raw:
            if not isinstance(raw["seeds"], int) or isinstance(raw["seeds"], bool) \
                    or not 1 <= raw["seeds"] <= 2**32:
                raise GkdError(f"{path}: 'seeds' must be a positive integer (a count of seeds "
                               f"0..N-1, below 2**32)")
            kwargs["seeds"] = raw["seeds"]
        overrides = raw.get("set", {})
        if not isinstance(overrides, dict) or not set(overrides) <= set(NAMESPACES) or \
                not all(isinstance(v, dict) for v in overrides.values()):
            raise GkdError(f"{path}: [set] holds tables named {', '.join(NAMESPACES)}")
        if "results" in raw:
            if not isinstance(raw["results"], str) or not raw["results"]:
                raise GkdError(f"{path}: 'results' must be a folder path (a string), not "
                               f"{raw['results']!r}")
            kwargs["results"] = path.parent / raw["results"]
        return cls(**kwargs, overrides=overrides)

    def runs(self) -> list[RunKey]:
        r"""Every run of the grid, ordered so that a task and its teacher serve all
        methods of a seed in a row: datasets, protocols, settings, teachers, seeds, then
        methods, the last varying fastest.

        Returns:
            list[RunKey]: the runs.
        """
        return [RunKey(d, p, s, t, m, seed) for d in self.datasets
                for p in self.protocols_of(d)
                for s, t, seed, m in itertools.product(self.settings, self.teachers,
                                                       range(self.seeds), self.methods)]

    def protocols_of(self, dataset: str) -> list[str]:
        r"""The protocols :obj:`dataset` runs under: :attr:`protocols`, or the dataset's
        :func:`~gkd.data.tasks.default_protocol` when none are given."""
        from gkd.data.tasks import default_protocol

        return self.protocols or [default_protocol(dataset)]
