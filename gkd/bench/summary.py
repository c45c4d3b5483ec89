r"""Summaries of run records: one row per (task, method, configuration), mean ± std over
seeds."""
from __future__ import annotations

from typing import Any

from gkd.bench.config import TASK_FIELDS
from gkd.evaluation import headline_metric
from gkd.experiment import MODELS, mean_std, summarize, text_table


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
