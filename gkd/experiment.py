"""One node-distillation experiment per seed (teacher, plain MLP, distilled student),
and the summary over seeds."""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from dataclasses import fields
from importlib import metadata
from pathlib import Path
from typing import Any, TypedDict

import torch
from torch_geometric.seed import seed_everything

from gkd.config import merge_overrides
from gkd.data.tasks import NodeTask
from gkd.distill import GLNN, Distiller, get_distiller
from gkd.errors import GkdError
from gkd.evaluation import evaluate
from gkd.knowledge import Knowledge, parameter_count
from gkd.nn import MLP
from gkd.students import save_student

MODELS = ("teacher", "mlp", "student")


class MeanStd(TypedDict):
    r"""A metric over seeds: its mean and sample standard deviation (``None`` for one
    seed)."""
    mean: float
    std: float | None


#: model -> metric -> :class:`MeanStd`
Summary = dict[str, dict[str, MeanStd]]


def node_config(dataset: str, teacher: str, method: str,
                overrides: dict[str, dict[str, Any]] | None = None
                ) -> dict[str, dict[str, Any]]:
    r"""The full configuration ``{"teacher", "student", "distiller"}`` of one node
    distillation: per-dataset defaults with :obj:`overrides` (same namespaces) applied and
    checked, so a bad option fails before any training."""
    overrides = overrides or {}
    distiller_cls = get_distiller(method)
    defaults = distiller_cls.defaults(dataset)
    config = {
        "teacher": distiller_cls.configure_teacher(teacher, dataset, overrides.get("teacher", {})),
        "student": merge_overrides(defaults["student"], overrides.get("student", {}),
                                   "student"),
        "distiller": merge_overrides(defaults["distiller"], overrides.get("distiller", {}),
                                     method),
    }
    distiller_cls(**config["distiller"])
    distiller_cls.check_student_config(config["student"])
    return config


def _train_student(task: NodeTask, distiller: Distiller, student_config: dict[str, Any],
                   knowledge: Knowledge | None
                   ) -> tuple[MLP, dict[str, float], dict[str, Any]]:
    seed_everything(task.seed)
    student = MLP(task.num_features, out_channels=task.num_classes,
                  **student_config).to(task.graph.x.device)
    history = distiller.fit(student, task, knowledge)
    metrics = evaluate(task, lambda g: student(g.x))
    return student, metrics, {"epoch": history.best_epoch, "params": parameter_count(student),
                              "seconds": round(history.seconds, 3), **history.extras}


def run_node_distillation(task: NodeTask, teacher: str, method: str,
                          config: dict[str, dict[str, Any]], *,
                          cache: str | os.PathLike | None = None,
                          use_cache: bool = True,
                          save_to: str | os.PathLike | None = None) -> dict[str, Any]:
    r"""Trains (or reuses) the teacher, a plain MLP of the student's size on labels
    only, and the distilled student for one task, and scores all three. The teacher is
    the one the method distils from (:meth:`~gkd.distill.Distiller.knowledge`, e.g.
    VQGraph's tokenizer on backbone :obj:`teacher`).

    Args:
        task (NodeTask): the task of one seed.
        teacher (str): a teacher name from :data:`gkd.teachers.TEACHERS`.
        method (str): a distiller name from :data:`gkd.distill.DISTILLERS`.
        config (dict): ``{"teacher": {...}, "student": {...}, "distiller": {...}}``.
        cache (str, optional): the cache dir for teacher knowledge.
        use_cache (bool, optional): reuse and store trained teachers. (default: ``True``)
        save_to (str or os.PathLike, optional): write the distilled student there
            (:func:`~gkd.students.save_student`), with the task's
            :attr:`~gkd.data.NodeTask.info` and fingerprint, the teacher, the method, the
            configuration and the student's scores as its meta. (default: ``None``)

    Returns:
        A run record ``{"seed", "fingerprint", "teacher", "mlp", "student", "details",
        "split"}`` where each model maps metric names to accuracies in percent and
        ``fingerprint`` is the task's :meth:`~gkd.data.NodeTask.fingerprint`; with
        :obj:`save_to`,
        ``details["student"]["file"]`` names the student file.
    """
    distiller = get_distiller(method)(**config["distiller"])
    knowledge = distiller.knowledge(task, teacher, config["teacher"], cache=cache,
                                    use_cache=use_cache)
    training = {f.name: getattr(distiller, f.name) for f in fields(Distiller)}
    _, mlp, mlp_details = _train_student(task, GLNN(**training, lamb=1.0), config["student"],
                                         None)
    model, student, student_details = _train_student(task, distiller, config["student"],
                                                     knowledge)
    if save_to is not None:
        save_student(save_to, model, {"task": task.info, "fingerprint": task.fingerprint(),
                                      "teacher": teacher, "method": method, "config": config,
                                      "metrics": student})
        student_details["file"] = str(save_to)
    teacher_details = {k: knowledge.meta[k] for k in ("epoch", "params", "cached")}
    teacher_details["seconds"] = round(knowledge.meta["seconds"], 3)
    return {"seed": task.seed, "fingerprint": task.fingerprint(),
            "teacher": knowledge.meta["metrics"], "mlp": mlp, "student": student,
            "details": {"teacher": teacher_details, "mlp": mlp_details,
                        "student": student_details},
            "split": task.sizes()}


def summarize(runs: list[dict[str, Any]], models: tuple[str, ...] = MODELS
              ) -> Summary:
    r"""Mean and sample standard deviation (ddof = 1; ``None`` for a single run) of every
    metric of every model over :obj:`runs` (the metrics every run has)."""
    if not runs:
        raise GkdError("no runs to summarise")
    summary: Summary = {}
    for model in models:
        summary[model] = {}
        for metric in runs[0][model]:
            if any(metric not in run[model] for run in runs):
                continue
            values = [run[model][metric] for run in runs]
            std = statistics.stdev(values) if len(values) > 1 else None
            summary[model][metric] = {"mean": statistics.fmean(values), "std": std}
    return summary


def mean_std(mean: float, std: float | None) -> str:
    r"""``mean ± std`` with two decimals (the mean alone where :obj:`std` is ``None``, e.g.
    for one seed)."""
    return f"{mean:.2f}" + ("" if std is None else f" ± {std:.2f}")


def text_table(rows: list[list[str]]) -> str:
    r""":obj:`rows` (the header first) as left-aligned text columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def format_summary(summary: Summary) -> str:
    r"""The summary as an aligned text table, one row per model: ``mean ± std``."""
    metrics = list(next(iter(summary.values())))
    return text_table([["model", *metrics]] + [
        [model, *(mean_std(**values[metric]) for metric in metrics)]
        for model, values in summary.items()])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str | None:
    r"""The commit of the gkd checkout this package runs from, ``-dirty`` when its package
    code differs from it (results and other files do not count); ``None`` for an installed
    copy (whose folder may lie inside some other repository) or without git."""
    package = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True,
                              cwd=package.parent, timeout=5).stdout.strip()

    try:
        top = git("rev-parse", "--show-toplevel")
        if not top or Path(top).resolve() != package.parent:
            return None
        commit = git("rev-parse", "--short=7", "HEAD")
        changed = git("status", "--porcelain", "--", package.name)
    except (OSError, subprocess.SubprocessError):
        return None
    if not commit:
        return None
    return f"{commit}-dirty" if changed else commit


def environment(device: str | torch.device = "cpu") -> dict[str, Any]:
    r"""Versions, hardware, threads and active accelerators, recorded with every result.
    ``cpu_capability`` is the instruction set torch's CPU kernels dispatch to (e.g.
    ``AVX2``, ``AVX512``): runs on machines that differ in it may differ in the last bits."""
    from torch_geometric import typing as pyg_typing

    from gkd import __version__
    from gkd.ops import get_backend

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    device = torch.device(device)
    env = {"gkd": __version__, "commit": _commit(), "python": platform.python_version(),
           "torch": torch.__version__, "torch_geometric": version("torch_geometric"),
           "ogb": version("ogb"), "torch_scatter": version("torch_scatter"),
           "ops_backend": get_backend(), "pyg_lib": pyg_typing.WITH_PYG_LIB,
           "cpu": _cpu_model(), "cpu_count": os.cpu_count(),
           "cpu_capability": torch.backends.cpu.get_cpu_capability(),
           "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
           "device": str(device), "date": time.strftime("%Y-%m-%d")}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1),
                   cuda=torch.version.cuda)
    return env


def hardware_line(env: dict[str, Any]) -> str:
    r"""The one-line hardware and software description printed with every speed table."""
    capability = f", {env['cpu_capability']}" if env.get("cpu_capability") else ""
    parts = [f"{env['cpu']} ({env['threads']} threads, {env['interop_threads']} inter-op"
             f"{capability})"]
    if "gpu" in env:
        parts.append(f"{env['gpu']} {env['gpu_memory_gib']} GiB, CUDA {env['cuda']}")
    parts += [f"device {env['device']}", f"torch {env['torch']}",
              f"torch_geometric {env['torch_geometric']}", f"ogb {env['ogb']}",
              f"ops backend {env['ops_backend']}", f"pyg-lib {'on' if env['pyg_lib'] else 'off'}",
              f"gkd {env['gkd']} ({env['commit'] or 'no commit'})"]
    return " · ".join(parts)
