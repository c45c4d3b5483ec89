r"""``gkd bench``: runs a grid, one JSON line per finished run, resumable.

Each finished (task, method, seed) run is appended to ``RESULTS/node.jsonl`` as one line
(:func:`gkd.io.append_jsonl`). A rerun of the same grid skips the runs already there, so
an interrupted benchmark resumes where it stopped; teachers come back from the knowledge
cache. A run is identified by its task fields, method, seed and a digest of its full
configuration, so changing a default or an override reruns what it affects.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from gkd.bench.config import TASK_FIELDS, BenchConfig, RunKey
from gkd.errors import GkdError
from gkd.io import file_lock, read_jsonl

NODE_RESULTS = "node.jsonl"


def config_id(config: dict[str, Any]) -> str:
    r"""A short digest of a run configuration.

    Args:
        config (dict): the run's full configuration (JSON values; key order does not
            matter).

    Returns:
        str: the first 12 hex digits of its SHA-256 digest.
    """
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]


def record_key(record: dict[str, Any]) -> tuple[str, str, str, str, str, int, str]:
    r"""What identifies a run record: task fields, method, seed and config digest.

    Args:
        record (dict): a run record with ``"task"`` (holding every field of
            :data:`~gkd.bench.config.TASK_FIELDS`), ``"seed"`` and ``"config_id"``.

    Returns:
        ``(dataset, protocol, setting, teacher, method, seed, config_id)``.

    Raises:
        KeyError: a field is missing (:func:`run_bench` reports it as a
            :class:`~gkd.errors.GkdError`).
    """
    return (*(record["task"][f] for f in TASK_FIELDS), record["seed"], record["config_id"])


def student_file(folder: str | os.PathLike, key: RunKey, config: dict[str, Any]) -> Path:
    r"""Where ``gkd bench --save-students FOLDER`` writes the student of a run.

    Args:
        folder (str or os.PathLike): the students' folder.
        key (RunKey): the run.
        config (dict): the run's full configuration.

    Returns:
        Path: ``FOLDER/<dataset>-<protocol>-<setting>-<teacher>-<method>-seed<N>-<config id>.pt``
        (the configuration's :func:`config_id`, as in the run's record).
    """
    fields = "-".join(getattr(key, f) for f in TASK_FIELDS)
    return Path(folder) / f"{fields}-seed{key.seed}-{config_id(config)}.pt"


def _check_files(keys: list[RunKey], root: str | os.PathLike | None) -> None:
    r"""Raises a :class:`~gkd.errors.DatasetNotFoundError` unless every file the runs of
    :obj:`keys` read is under the data root (before the first of them trains)."""
    from gkd.data.datasets import located_dataset
    from gkd.data.synthetic import SYNTHETIC_PREFIX
    from gkd.data.tasks import dataset_for_protocol

    for source in dict.fromkeys(dataset_for_protocol(k.dataset, k.protocol) for k in keys):
        if not source.startswith(SYNTHETIC_PREFIX):
            located_dataset(source, root)


def _stored_records(path: Path) -> list[dict[str, Any]]:
    from gkd.bench.summary import check_run_records  # imports torch: only when resuming

    try:
        records = check_run_records(read_jsonl(path, repair=True), path)
    except (ValueError, GkdError) as error:  # a line that is not JSON, or not a run
        raise GkdError(f"cannot resume: {error}") from None
    first: dict[tuple[str, str, str, str, str, int, str], int] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record.get("config_id"), str):
            raise GkdError(f"cannot resume: {path}, record {number} has no config_id (not "
                           f"written by gkd bench)")
        if not isinstance(record.get("config"), dict) or \
                config_id(record["config"]) != record["config_id"]:
            raise GkdError(f"cannot resume: {path}, record {number}'s config does not match "
                           f"its config_id (edited by hand?)")
        key = record_key(record)
        if key in first:
            raise GkdError(f"cannot resume: {path}, records {first[key]} and {number} are the "
                           f"same run (seed {record['seed']})")
        first[key] = number
    return records


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    with file_lock(folder / ".lock", wait=False) as held:
        if not held:
            raise GkdError(f"another gkd bench is writing to '{folder}'")
        yield


def plan(config: BenchConfig) -> list[tuple[RunKey, dict[str, Any]]]:
    r"""Every run of :obj:`config` with its full configuration, checked before anything
    trains: protocols, settings and datasets (a ``synthetic:`` spec is parsed), each
    dataset under each protocol, and the configuration of every (dataset, teacher,
    method), built once and shared by its runs.

    Args:
        config (BenchConfig): the grid.

    Returns:
        list[tuple[RunKey, dict]]: the runs in :meth:`~gkd.bench.config.BenchConfig.runs`
        order, each with its configuration ``{"teacher", "student", "distiller"}``.

    Raises:
        GkdError: an unknown protocol, setting, dataset, teacher, method or option, an
            invalid option value, a malformed ``synthetic:`` spec, or a protocol that
            does not fit a dataset.
    """
    from gkd.data.datasets import dataset_spec
    from gkd.data.synthetic import SYNTHETIC_PREFIX, synthetic_params
    from gkd.data.tasks import PROTOCOLS, SETTINGS, dataset_for_protocol
    from gkd.experiment import node_config

    for name, known in (("protocols", PROTOCOLS), ("settings", SETTINGS)):
        unknown = sorted(set(getattr(config, name) or ()) - set(known))
        if unknown:
            raise GkdError(f"unknown {name} {', '.join(unknown)}; choose from {', '.join(known)}")
    for dataset in config.datasets:
        if dataset.startswith(SYNTHETIC_PREFIX):
            synthetic_params(dataset)
        else:
            dataset_spec(dataset)
        for protocol in config.protocols_of(dataset):
            dataset_for_protocol(dataset, protocol)
    configs: dict[tuple[str, str, str], dict[str, Any]] = {}
    runs = []
    for key in config.runs():
        ident = (key.dataset, key.teacher, key.method)
        if ident not in configs:
            configs[ident] = node_config(*ident, config.overrides)
        runs.append((key, configs[ident]))
    return runs


class _Tasks:
    r"""Builds each task once and keeps only the current dataset and task in memory."""

    def __init__(self, root: str | os.PathLike | None, device: str) -> None:
        self.root, self.device = root, device
        self.data: tuple[str, Any] | None = None
        self.task: tuple[tuple, Any] | None = None

    def get(self, key: RunKey) -> Any:
        from gkd.data.datasets import load_dataset
        from gkd.data.tasks import dataset_for_protocol, make_node_task

        ident = (key.dataset, key.protocol, key.setting, key.seed)
        if self.task is None or self.task[0] != ident:
            source = dataset_for_protocol(key.dataset, key.protocol)
            if self.data is None or self.data[0] != source:
                self.data = None  # free the previous graph first
                self.data = (source, load_dataset(source, self.root).to(self.device))
            task = make_node_task(self.data[1], key.protocol, setting=key.setting,
                                  seed=key.seed, info={"dataset": key.dataset,
                                                       "source": source})
            self.task = (ident, task)
        return self.task[1]


def _check_stored_data(path: Path, finished: list[tuple[RunKey, dict[str, Any]]],
                       todo: list[RunKey], tasks: _Tasks) -> None:
    r"""Raises a :class:`~gkd.errors.GkdError` unless every finished run of a dataset and
    protocol that still has runs to do was trained on the task this data root gives now,
    so that no summary mixes two versions of the data. Records written before runs
    recorded their task's fingerprint are taken on their description."""
    resumed = {(key.dataset, key.protocol) for key in todo}
    fingerprints: dict[tuple[str, str, str, int], str] = {}
    for key, record in finished:
        if "fingerprint" not in record or (key.dataset, key.protocol) not in resumed:
            continue
        ident = (key.dataset, key.protocol, key.setting, key.seed)
        if ident not in fingerprints:
            fingerprints[ident] = tasks.get(key).fingerprint()
        if fingerprints[ident] != record["fingerprint"]:
            raise GkdError(f"cannot resume '{path}': its {key.dataset} {key.protocol} "
                           f"{key.setting} run of seed {key.seed} was trained on other data or "
                           f"another split (the task's fingerprint differs: the data root's "
                           f"files or gkd's split code changed); use a new results folder")


def run_bench(config: BenchConfig, results: str | os.PathLike, *,
              root: str | os.PathLike | None = None, device: str = "cpu",
              progress: bool = True, save_students: str | os.PathLike | None = None,
              log: IO[str] = sys.stderr) -> list[dict[str, Any]]:
    r"""Runs every unfinished run of :obj:`config`, appending each record to
    ``results/node.jsonl`` as it finishes.

    Args:
        config (BenchConfig): the grid.
        results (str): the results folder.
        root (str, optional): the data root. (default: ``$GKD_DATA_ROOT`` or
            ``./datasets``)
        device (str, optional): where tasks, teachers and students live, ``"cpu"`` or
            ``"cuda[:N]"``; recorded in every record's ``env``. (default: ``"cpu"``)
        progress (bool, optional): show a progress bar with the time left.
            (default: ``True``)
        save_students (str, optional): write the student of every run this call trains
            to this folder (:func:`student_file`); runs already in the results are not
            retrained, so their students are not written. (default: ``None``)
        log (IO, optional): where progress goes. (default: standard error)

    Returns:
        The records of every run of the grid, in grid order.

    Raises:
        GkdError: :obj:`config` fails :func:`plan`, another ``gkd bench`` holds the
            results folder, the stored results cannot be read to resume, a finished run
            was trained on other data than a run still to do would be, or a file that
            an unfinished run reads is missing (before any run trains).
    """
    from tqdm import tqdm

    from gkd.experiment import environment, run_node_distillation
    from gkd.io import append_jsonl

    planned = plan(config)
    folder = Path(results)
    if folder.exists() and not folder.is_dir():
        raise GkdError(f"results folder '{folder}' is a file")
    new = not folder.exists()
    if new:  # nothing to resume: every run is checked, so a refused grid leaves no folder
        _check_files([key for key, _ in planned], root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NODE_RESULTS
    with _exclusive(folder):
        stored = {record_key(r): r for r in _stored_records(path)}
        keys = [(key, cfg, record_key({"task": key.task(), "seed": key.seed,
                                       "config_id": config_id(cfg)})) for key, cfg in planned]
        todo = [(key, cfg, ident) for key, cfg, ident in keys if ident not in stored]
        if not new:
            _check_files([key for key, _, _ in todo], root)
        env = environment(device)
        tasks = _Tasks(root, device)
        _check_stored_data(path, [(key, stored[ident]) for key, _, ident in keys
                                  if ident in stored], [key for key, _, _ in todo], tasks)
        bar = tqdm(total=len(keys), initial=len(keys) - len(todo), desc="gkd bench",
                   unit="run", file=log, disable=not progress, mininterval=1.0,
                   dynamic_ncols=True)
        try:
            for key, cfg, ident in todo:
                start = time.perf_counter()
                task = tasks.get(key)
                save_to = None if save_students is None else student_file(save_students,
                                                                          key, cfg)
                run = run_node_distillation(task, key.teacher, key.method, cfg,
                                            save_to=save_to)
                record = {"task": key.task(), "seed": key.seed, "config_id": ident[-1],
                          **run, "config": cfg,
                          "seconds": round(time.perf_counter() - start, 3), "env": env}
                append_jsonl(path, record)
                stored[ident] = record
                bar.update()
                bar.set_postfix_str(f"{key.dataset} {key.setting[:4]} {key.method} "
                                    f"seed {key.seed}", refresh=False)
        except KeyboardInterrupt:
            bar.close()
            done = sum(ident in stored for _, _, ident in keys)
            print(f"interrupted: {done} of {len(keys)} runs saved in {path}; rerun the same "
                  f"command to resume", file=log)
            raise
        bar.close()
    return [stored[ident] for _, _, ident in keys]
