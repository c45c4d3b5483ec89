r"""Summaries of run records: one row per (task, method, configuration), mean ± std over
seeds, and each method's student against the baseline's, paired by seed."""
from __future__ import annotations

import math
import os
import statistics
from typing import Any

from gkd.bench.config import TASK_FIELDS
from gkd.errors import GkdError
from gkd.evaluation import SETTING_METRICS, headline_metric
from gkd.experiment import MODELS, mean_std, summarize, text_table


def run_record_problem(record: Any) -> str | None:
    r"""Why :obj:`record` is not a run record that :func:`summary_rows` can summarise,
    or ``None`` when it is one: task fields given as names, an integer seed, and every
    model's numeric scores of its setting's metrics (and numbers only).

    Args:
        record (Any): a parsed JSON value.

    Returns:
        str or None: the problem, for a message.
    """
    task = record.get("task") if isinstance(record, dict) else None
    if not (isinstance(task, dict) and all(isinstance(task.get(f), str) for f in TASK_FIELDS)):
        return (f"not a run record (needs task fields {', '.join(TASK_FIELDS)} as names, "
                f"seed and {', '.join(MODELS)} scores)")
    seed = record.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        return f"the seed must be an integer; got {seed!r}"
    metrics = SETTING_METRICS.get(task["setting"])
    if metrics is None:
        return f"unknown setting {task['setting']!r}"
    for model in MODELS:
        scores = record.get(model)
        if not (isinstance(scores, dict) and all(_is_number(scores.get(m)) for m in metrics)):
            return (f"every model needs finite numeric {', '.join(metrics)} scores; {model} "
                    f"has not")
        other = next((k for k, v in scores.items() if not _is_number(v)), None)
        if other is not None:
            return f"{model}'s {other!r} is not a finite number: {scores[other]!r}"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def check_run_records(records: list[Any], source: str | os.PathLike) -> list[dict[str, Any]]:
    r""":obj:`records` if each is a run record (:func:`run_record_problem`).

    Args:
        records (list): parsed JSON values.
        source (str or os.PathLike): where they come from, for the message.

    Returns:
        list[dict]: :obj:`records`.

    Raises:
        GkdError: a record is not a run record; the message names :obj:`source`, the
            record's number and the problem.
    """
    for number, record in enumerate(records, start=1):
        problem = run_record_problem(record)
        if problem is not None:
            raise GkdError(f"{source}, record {number}: {problem}")
    return records


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r"""Groups :obj:`records` by task fields, method and configuration digest
    (``config_id``, ``None`` where a record has none) in order of first appearance, and
    summarises each group with :func:`gkd.experiment.summarize`: runs of different
    configurations never share a row.

    Returns:
        Rows ``{**task fields, "config_id", "seeds", "metric", "config", "summary"}``
        (``config`` that of the group's first run, ``None`` where it has none) where
        ``metric`` is the setting's headline test metric and ``summary`` maps model ->
        metric -> mean/std.
    """
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for record in records:
        ident = (*(record["task"][f] for f in TASK_FIELDS), record.get("config_id"))
        groups.setdefault(ident, []).append(record)
    rows = []
    for (*task, config), runs in groups.items():
        runs = sorted(runs, key=lambda r: r["seed"])
        row = dict(zip(TASK_FIELDS, task))
        rows.append({**row, "config_id": config, "seeds": len(runs),
                     "metric": headline_metric(row["protocol"], row["setting"]),
                     "config": runs[0].get("config"), "summary": summarize(runs, MODELS)})
    return rows


def paired_differences(records: list[dict[str, Any]], baseline: str = "glnn"
                       ) -> list[dict[str, Any]]:
    r"""Each method's student against :obj:`baseline`'s, paired by seed: per task (the task
    fields but the method) whose baseline runs share one configuration, and per other
    method and configuration with at least two seeds in common, the differences of the
    students' headline test accuracy seed by seed. Paired runs share their split, and
    distillers of one teacher share it too, so the per-seed difference removes the
    variance they have in common.

    Args:
        records (list): run records (``gkd bench`` or ``gkd distill`` runs).
        baseline (str, optional): the method compared against. (default: ``"glnn"``)

    Returns:
        Rows ``{**task fields, "config_id", "seeds", "metric", "mean", "ci95", "wins",
        "losses"}`` in order of first appearance: ``method`` and ``config_id`` are the other
        method's, ``seeds`` the number of pairs, ``mean`` the mean difference (method minus
        baseline, in points), ``ci95`` the half-width of its 95 % Student-t interval over
        the pairs, and ``wins`` / ``losses`` the seeds on which the method's student is
        ahead / behind.
    """
    from scipy.stats import t as student_t

    students: dict[tuple, dict[int, float]] = {}
    for record in records:
        task = record["task"]
        ident = (*(task[f] for f in TASK_FIELDS), record.get("config_id"))
        metric = headline_metric(task["protocol"], task["setting"])
        students.setdefault(ident, {})[record["seed"]] = record["student"][metric]
    method = TASK_FIELDS.index("method")
    baselines: dict[tuple, list[dict[int, float]]] = {}
    for ident, scores in students.items():
        if ident[method] == baseline:
            baselines.setdefault(ident[:method] + ident[method + 1:-1], []).append(scores)
    rows = []
    for ident, scores in students.items():
        base = baselines.get(ident[:method] + ident[method + 1:-1], [])
        if ident[method] == baseline or len(base) != 1:
            continue
        diffs = [scores[seed] - base[0][seed] for seed in sorted(scores) if seed in base[0]]
        if len(diffs) < 2:
            continue
        row = dict(zip(TASK_FIELDS, ident[:-1]))
        half = (student_t.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs)
                / math.sqrt(len(diffs)))
        rows.append({**row, "config_id": ident[-1], "seeds": len(diffs),
                     "metric": headline_metric(row["protocol"], row["setting"]),
                     "mean": statistics.fmean(diffs), "ci95": float(half),
                     "wins": sum(d > 0 for d in diffs), "losses": sum(d < 0 for d in diffs)})
    return rows


def format_rows(rows: list[dict[str, Any]]) -> str:
    r"""Summary rows as aligned text tables of headline test accuracy in percent, one per
    split protocol (numbers of different protocols are different experiments)."""
    tables = []
    for protocol in dict.fromkeys(row["protocol"] for row in rows):
        table = [[*TASK_FIELDS, "seeds", "metric", *MODELS]]
        for row in rows:
            if row["protocol"] == protocol:
                table.append([str(row[f]) for f in TASK_FIELDS]
                             + [str(row["seeds"]), row["metric"]]
                             + [mean_std(**row["summary"][m][row["metric"]]) for m in MODELS])
        tables.append(text_table(table))
    return "\n\n".join(tables)


def format_paired(paired: list[dict[str, Any]], baseline: str = "glnn") -> str:
    r"""Rows of :func:`paired_differences` as an aligned text table: the mean difference
    in points ± the half-width of its 95 % interval, and the seeds ahead / behind."""
    table = [[*TASK_FIELDS, "seeds", "metric", f"student - {baseline} (95% CI)",
              "ahead/behind"]]
    for row in paired:
        table.append([str(row[f]) for f in TASK_FIELDS]
                     + [str(row["seeds"]), row["metric"],
                        f"{row['mean']:+.2f} ± {row['ci95']:.2f}",
                        f"{row['wins']}/{row['losses']}"])
    return text_table(table)
